"""Public traceability pages: /t/<code>/, its QR image, and GS1 Digital Link paths resolving to it."""

from __future__ import annotations

import qrcode
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from qrcode.image.svg import SvgPathImage

from . import selectors
from .errors import TraceCodeNotFound


def _not_found(request: HttpRequest, code: str = "") -> HttpResponse:
    return render(request, "quality/trace_not_found.html", {"code": code[:40]}, status=404)


@require_safe
def lookup(request: HttpRequest) -> HttpResponse:
    """The code printed on a pack, typed in by hand."""
    code = (request.GET.get("code") or "").strip().upper()[:40]
    if not code:
        return render(request, "quality/lookup.html", {})
    try:
        batch = selectors.batch_by_trace_code(code)
    except TraceCodeNotFound:
        return _not_found(request, code)
    return redirect("quality:trace", code=batch.trace_code)


@require_safe
def trace(request: HttpRequest, code: str) -> HttpResponse:
    try:
        batch = selectors.batch_by_trace_code(code)
    except TraceCodeNotFound:
        return _not_found(request, code)
    if code != batch.trace_code:  # lower-case or padded: one canonical address
        return redirect("quality:trace", code=batch.trace_code, permanent=True)
    summary = selectors.trace_summary(batch)
    return render(request, "quality/trace.html", {"t": summary, "title": _("溯源信息")})


@require_safe
def trace_qr(request: HttpRequest, code: str) -> HttpResponse:
    try:
        batch = selectors.batch_by_trace_code(code)
    except TraceCodeNotFound:
        return _not_found(request, code)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                       image_factory=SvgPathImage)
    qr.add_data(selectors.qr_target(batch))
    qr.make(fit=True)
    response = HttpResponse(qr.make_image().to_string(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def digital_link(request: HttpRequest, gtin: str, lot: str) -> HttpResponse:
    """GS1 Digital Link-style /01/{gtin}/10/{lot}: the same trace page as the batch's code."""
    try:
        batch = selectors.batch_by_digital_link(gtin, lot)
    except TraceCodeNotFound:
        return _not_found(request)
    return redirect("quality:trace", code=batch.trace_code)


@require_safe
def certificate(request: HttpRequest, inspection_id: int) -> FileResponse:
    """/certificates/<inspection id>/: the inspection's certificate, as a download.

    Public like the trace page that links it. Never inline on the site's origin: attachment, the content
    type of the kind the upload was checked to be, nosniff, and a sandboxing Content-Security-Policy in
    case a browser renders it anyway.
    """
    found = selectors.certificate_of(inspection_id)
    if found is None:
        raise Http404()
    handle, filename, content_type = found
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=300"
    return response
