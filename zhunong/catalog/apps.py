from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "zhunong.catalog"
    label = "catalog"
    verbose_name = "Products and listing"
