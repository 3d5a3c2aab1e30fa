"""Pages of the data centre, all under /insights/ (several parts of the app add their pages here)."""

from django.urls import path, register_converter

from . import centre_views, coop_views, views


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
    # Forecasts, warnings, season plans, comment mining, imports and their jobs (centre_views.py)
    path("insights/forecasts/", centre_views.forecasts_page, name="forecasts"),
    path("insights/forecasts/<insights_id:product_id>/", centre_views.forecast_page, name="forecast"),
    path("insights/warnings/", centre_views.warnings_page, name="warnings"),
    path("insights/plans/", centre_views.plans_page, name="plans"),
    path("insights/feedback/", centre_views.feedback_page, name="feedback"),
    path("insights/imports/", centre_views.imports_page, name="imports"),
    path("insights/imports/upload/", centre_views.upload_import, name="upload_import"),
    path("insights/jobs/<str:kind>/start/", centre_views.start_job, name="start_job"),
    path("insights/jobs/<insights_id:job_id>/", centre_views.job_progress, name="job"),
    # A co-op's members and share schemes (coop_views.py)
    path("insights/coops/<insights_id:coop_id>/members/", coop_views.coop_members_page, name="coop_members"),
]
