"""Inspection certificates: PDF, JPEG or PNG only, judged by content, at most CERTIFICATE_MAX_BYTES; kept out
of MEDIA_ROOT and served as a download (attachment, nosniff, sandboxed), never inline on the site's origin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from zhunong.quality import services
from zhunong.quality.models import Inspection
from zhunong.testing import build_world, unique

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (20, 30, 200)).save(out, "JPEG")
    return out.getvalue()


def _record(world, name: str, content: bytes, content_type: str = "application/pdf"):  # noqa: ANN001, ANN202
    return services.record_inspection(
        actor=world.regulator, batch=world.batch, sample_code=unique("S"), lab="胶州市检验检测中心",
        sampled_on=timezone.localdate(), result="pass",
        certificate=SimpleUploadedFile(name, content, content_type=content_type))


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize("name, content, content_type", [
    ("report.svg", SVG, "image/svg+xml"),
    ("report.pdf", SVG, "application/pdf"),  # the name and type lie; the content decides
    ("report.html", HTML, "text/html"),
    ("report.png", b"\x89PNG\r\n\x1a\nnot really a png", "image/png"),  # right magic, not an image
    ("report.jpg", b"\xff\xd8\xff\xe0garbage", "image/jpeg"),
    ("report.pdf", b"", "application/pdf"),
])
def test_only_pdf_jpeg_and_png_by_content_are_accepted(name, content, content_type):
    world = build_world()
    before = Inspection.objects.count()
    with pytest.raises(services.CertificateTypeNotAllowed) as err:
        _record(world, name, content, content_type)
    assert err.value.code == "certificate_type_not_allowed"
    assert Inspection.objects.count() == before


def test_a_certificate_over_the_size_limit_is_refused(settings):  # noqa: ANN001
    settings.CERTIFICATE_MAX_BYTES = 1024
    world = build_world()
    with pytest.raises(services.CertificateTooLarge) as err:
        _record(world, "big.pdf", PDF + b"0" * 2048)
    assert err.value.code == "certificate_too_large"
    assert not Inspection.objects.exists()


@pytest.mark.parametrize("content, kind, mime", [(PDF, "pdf", "application/pdf"), (_png(), "png", "image/png"),
                                                 (_jpeg(), "jpg", "image/jpeg")])
def test_accepted_certificates_are_stored_privately_and_served_as_downloads(client, content, kind, mime):  # noqa: ANN001
    world = build_world()
    inspection = _record(world, "检测报告 (final).exe", content)
    stored = Path(inspection.certificate.path).resolve()
    assert stored.suffix == f".{kind}"  # named by content, never by the uploader
    assert not stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    response = client.get(f"/t/{world.batch.trace_code}/")
    url = f"/certificates/{inspection.pk}/"
    assert url in response.content.decode()
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == mime
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert client.get(f"/media/{inspection.certificate.name}").status_code == 404


def test_unknown_certificate_is_404(client):  # noqa: ANN001
    assert client.get("/certificates/999999/").status_code == 404
