"""Reads for inspections and the traceability chain."""

from __future__ import annotations

from zhunong.producers.models import HarvestBatch
from zhunong.producers.services import is_valid_trace_code

from .errors import TraceCodeNotFound
from .models import Inspection


def latest_inspection(batch: HarvestBatch) -> Inspection | None:
    return batch.inspections.order_by("-sampled_on", "-id").first()


def batch_by_trace_code(code: str) -> HarvestBatch:
    code = (code or "").strip().upper()
    if not is_valid_trace_code(code):
        raise TraceCodeNotFound()
    try:
        return HarvestBatch.objects.select_related("plot__producer__village").get(trace_code=code)
    except HarvestBatch.DoesNotExist:
        raise TraceCodeNotFound()
