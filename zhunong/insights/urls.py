"""Pages of the data centre, all under /insights/ (several parts of the app add their pages here)."""

from django.urls import path, register_converter

from . import views


class _IdConverter:
    """Database ids: at most 18 digits, so an absurd number is a 404 and never reaches the database driver."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(_IdConverter, "insights_id")

app_name = "insights"

urlpatterns = [
    # Income and dashboards (views.py)
    path("insights/", views.home, name="home"),
    path("insights/income/", views.income_page, name="income"),
    path("insights/streams/<insights_id:stream_id>/", views.stream_page, name="stream"),
    path("insights/hosts/<insights_id:host_id>/", views.host_page, name="host"),
    path("insights/products/<insights_id:product_id>/", views.product_page, name="product"),
    path("insights/producers/<insights_id:producer_id>/", views.producer_page, name="producer"),
    path("insights/regions/<str:code>/", views.region_page, name="region"),
]
