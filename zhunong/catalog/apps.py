from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "zhunong.catalog"
    label = "catalog"
    verbose_name = _("商品与上架")  # Products and listing
