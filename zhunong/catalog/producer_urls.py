"""Public producer/co-op and region pages. Their URL names keep the "producers" namespace they were
published under (templates link with `producers:detail` and `producers:region`)."""

from django.urls import path

from . import views

app_name = "producers"

urlpatterns = [
    path("producers/<int:producer_id>/", views.producer_detail, name="detail"),
    path("regions/<str:code>/", views.region_detail, name="region"),
]
