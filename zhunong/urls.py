"""Root URLs. Each app owns its own `urls.py` (pages) and `api.py` (JSON API router)."""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from .api import api

# Apps whose pages are mounted at the root; each urls.py chooses its own prefixes.
PAGE_APPS = ["core", "accounts", "catalog", "producers", "quality", "live", "video", "orders", "payments",
             "fulfilment", "supervision", "insights"]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

for _app in PAGE_APPS:
    _module = f"zhunong.{_app}.urls"
    try:
        import_module(_module)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise
        continue
    urlpatterns.append(path("", include(_module)))

if settings.DEBUG or settings.MEDIA_ROOT:
    from django.views.static import serve

    # Uploaded images and certificates; behind nginx in production (docs/deploy.md).
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
