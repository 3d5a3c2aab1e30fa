from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "zhunong.catalog"
    label = "catalog"
    verbose_name = _("商品与上架")  # Products and listing

    def ready(self) -> None:
        # Imported here: selectors and services need the app registry, which is not ready at import time.
        from zhunong.quality import products as trace_products
        from zhunong.quality.signals import inspection_recorded

        from . import selectors, tasks
        from .services import on_inspection_recorded
        from .signals import product_image_uploaded

        inspection_recorded.connect(on_inspection_recorded, dispatch_uid="catalog.on_inspection_recorded")
        product_image_uploaded.connect(tasks.queue_image_processing, dispatch_uid="catalog.render_image")
        # The trace page and GS1 Digital Links read a batch's products through quality.products.
        trace_products.provide(gtin_of_batch=selectors.gtin_of_batch, products_of_batch=selectors.products_of_batch,
                               listed_products_of_batch=selectors.listed_products_of_batch,
                               batches_of_gtin=selectors.batches_of_gtin)
