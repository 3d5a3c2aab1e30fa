"""Where inspection certificates are kept: CERTIFICATE_ROOT (var/certificates), outside MEDIA_ROOT.

Nothing serves that folder; `/certificates/<inspection id>/` (views.certificate) hands a certificate out as
a download, so an uploaded file can never run as a page of the site (docs/decisions: certificate uploads).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def certificate_storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.CERTIFICATE_ROOT, base_url=None)
