"""Root URLs. Each app owns its own `urls.py` (pages) and `api.py` (JSON API router)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from zhunong.accounts import urls as accounts_urls
from zhunong.catalog import producer_urls as producers_urls
from zhunong.catalog import urls as catalog_urls
from zhunong.core import urls as core_urls
from zhunong.fulfilment import urls as fulfilment_urls
from zhunong.insights import urls as insights_urls
from zhunong.live import urls as live_urls
from zhunong.notifications import urls as notifications_urls
from zhunong.orders import urls as orders_urls
from zhunong.payments import urls as payments_urls
from zhunong.quality import urls as quality_urls
from zhunong.supervision import urls as supervision_urls
from zhunong.video import urls as video_urls
from zhunong.workbench import urls as workbench_urls

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

# Apps whose pages are mounted at the root, in this order; each urls.py chooses its own prefixes.
for _urls in [core_urls, accounts_urls, catalog_urls, producers_urls, quality_urls, live_urls, video_urls,
              orders_urls, payments_urls, fulfilment_urls, insights_urls, supervision_urls, notifications_urls,
              workbench_urls]:
    urlpatterns.append(path("", include(_urls)))

if settings.DEBUG or settings.MEDIA_ROOT:
    from django.views.static import serve

    # Uploaded images and certificates; behind nginx in production (docs/deploy.md).
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
