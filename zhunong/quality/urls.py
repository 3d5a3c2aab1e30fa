"""Public traceability URLs (the trace page, its QR, GS1 Digital Link paths)."""

from django.urls import path, re_path

from . import views

app_name = "quality"

urlpatterns = [
    path("t/", views.lookup, name="lookup"),
    path("t/<str:code>/", views.trace, name="trace"),
    path("t/<str:code>/qr.svg", views.trace_qr, name="trace_qr"),
    # Inspection certificates, as downloads (never inline on the site's origin).
    path("certificates/<int:inspection_id>/", views.certificate, name="certificate"),
    # GS1 Digital Link: /01/{GTIN}/10/{batch or lot}, with or without a trailing slash.
    re_path(r"^01/(?P<gtin>[0-9]{8,14})/10/(?P<lot>[^/]{1,40})/?$", views.digital_link, name="digital_link"),
]
