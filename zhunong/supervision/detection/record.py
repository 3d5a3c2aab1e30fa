"""Detector flags about this platform's streams, kept as supervision.IntegrityFlag rows.

A flag is identified by its stream, its detector and a fingerprint of what it names (its orders, sessions
and accounts), so a re-run finds the same flag and raises no duplicate. When a re-run names different
things (a late refund completes a fake-order pattern), an open flag of that stream and detector is brought
up to date; a flag the office has already reviewed is left as it was reviewed, and the new finding becomes
a new flag.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from zhunong.live.models import Stream
from zhunong.supervision.models import IntegrityFlag

SUMMARIES = {
    "quota": "疑似摊派/强制消费：{n} 笔订单",
    "fake_order": "疑似刷单：{n} 笔订单在直播后被取消或退款",
    "inflated_traffic": "疑似流量注水：{s} 个观看会话",
    "below_cost": "低于成本销售：{n} 笔订单",
}


def fingerprint(flag: dict[str, Any]) -> str:
    ids = {k: flag[k] for k in ("order_ids", "session_ids", "account_ids")}
    return hashlib.sha256(json.dumps(ids, sort_keys=True).encode()).hexdigest()[:32]


def _summary(flag: dict[str, Any]) -> str:
    text = SUMMARIES[flag["abuse"]].format(n=len(flag["order_ids"]), s=len(flag["session_ids"]))
    if flag["evidence"].get("detector", "").endswith("displayed_count"):
        text = "显示在线人数高于实际在线会话（{:.0%}）".format(flag["evidence"].get("displayed_over_alive", 0))
    return text[:300]


@transaction.atomic
def record_flags(*, stream: Stream, flags: list[dict[str, Any]]) -> dict[str, int]:
    """Keep `flags` (scan output about `stream`) as IntegrityFlag rows. Returns counts created/updated/kept."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    region = stream.channel.county if stream.channel_id else None
    stream_type = ContentType.objects.get_for_model(Stream)
    for f in flags:
        detector = f["evidence"].get("detector", "")[:40]
        mark = fingerprint(f)
        evidence = {**f["evidence"], "order_ids": f["order_ids"], "session_ids": f["session_ids"],
                    "account_ids": f["account_ids"], "fingerprint": mark}
        evidence = json.loads(json.dumps(evidence, default=float))  # numpy numbers become plain JSON
        existing = IntegrityFlag.objects.select_for_update().filter(stream=stream, detector=detector)
        if existing.filter(evidence__fingerprint=mark).exists():
            counts["unchanged"] += 1
            continue
        open_flag = existing.filter(status=IntegrityFlag.Status.OPEN).order_by("-id").first()
        reviewed = hasattr(open_flag, "review") if open_flag is not None else False
        if open_flag is not None and not reviewed:
            open_flag.score, open_flag.evidence, open_flag.summary = f["score"], evidence, _summary(f)
            open_flag.save(update_fields=["score", "evidence", "summary"])
            counts["updated"] += 1
            continue
        IntegrityFlag.objects.create(
            kind=f["abuse"], summary=_summary(f), details={"source": "post-stream scan"}, region=region,
            subject_type=stream_type, subject_id=str(stream.pk), detector=detector, score=f["score"],
            stream=stream, evidence=evidence)
        counts["created"] += 1
    return counts


def progress_key(stream_id: int) -> str:
    return f"supervision:scan:{stream_id}"


def set_progress(stream_id: int, **state: Any) -> None:
    """Where the post-stream scan is (shown to the office): stage, counts, when."""
    cache.set(progress_key(stream_id), {**state, "at": timezone.now().isoformat()}, timeout=7 * 86400)


def scan_progress(stream_id: int) -> dict[str, Any] | None:
    return cache.get(progress_key(stream_id))
