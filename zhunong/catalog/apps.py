from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "zhunong.catalog"
    label = "catalog"
    verbose_name = _("商品与上架")  # Products and listing

    def ready(self) -> None:
        # Imported here: services need the app registry, which is not ready at import time.
        from zhunong.quality.signals import inspection_recorded

        from .services import on_inspection_recorded

        inspection_recorded.connect(on_inspection_recorded, dispatch_uid="catalog.on_inspection_recorded")
