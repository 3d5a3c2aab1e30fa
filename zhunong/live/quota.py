"""Words that push spending quotas (摊派, "设置最低消费额") in what a stream shows everyone: its title and
description and its announcements (the text pinned on top of the room).

Such text is flagged for the discipline-inspection office (`core.integrity.report_concern`, kind quota),
never blocked: "任务" or "人均" can be innocent ("今天的任务是把茶叶讲清楚"), and a person decides. Text is
compared in simplified Chinese (OpenCC, zh.text) with spaces, punctuation and full-width forms removed, so
"每 人 至 少" or traditional "最低消費" are found too.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import models

from zhunong.accounts.models import User
from zhunong.core.integrity import ConcernKind, report_concern
from zhunong.zh.text import to_simplified

from .models import Stream

# Phrases of the provincial notices and of reported cases (spending quotas handed down to staff).
QUOTA_TERMS = (
    "每人至少", "每人最少", "人均", "最低消费", "必须购买", "必须下单", "务必下单", "强制购买", "摊派",
    "任务", "指标", "考核", "不少于", "每户至少", "每个单位", "每名干部", "每位干部", "全员参与", "硬性",
)

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NOISE.sub("", to_simplified(unicodedata.normalize("NFKC", text or "")))


def quota_terms(text: str) -> list[str]:
    """The quota phrases `text` contains, in QUOTA_TERMS' order."""
    plain = normalise(text)
    return [term for term in QUOTA_TERMS if term in plain]


def flag_quota_text(*, stream: Stream, text: str, where: str, subject: models.Model, actor: User | None) -> list[str]:
    """Inside the writer's transaction: report the text for review if it pushes quotas; the write goes on."""
    terms = quota_terms(text)
    if terms:
        report_concern(
            kind=ConcernKind.QUOTA,
            summary=f"直播《{stream.title}》的{where}含摊派用语：{'、'.join(terms)}",
            subject=subject, region=stream.channel.county,
            details={"stream_id": stream.pk, "where": where, "terms": terms, "text": text[:500]},
            raised_by=actor,
        )
    return terms
