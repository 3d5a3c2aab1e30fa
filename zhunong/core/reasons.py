"""Labels for the reasons state machines write into their history.

History reasons are stored in English for the machine ("order placed", "payment pi_…", "partial refund:
after-sales #2: quality"); pages show them through `reason_label`, which maps each known form to a
translated label and leaves anything else (a reason a person typed) as it was written. Stored rows are
never rewritten. Apps whose values appear inside reasons (the after-sales reasons' choice values, say)
register their labels with `register_terms` from their AppConfig.ready.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_TERMS: dict[str, object] = {}

FIXED = {
    "order placed": gettext_lazy("下单"),
    "payment deadline passed": gettext_lazy("超时未支付，已取消"),
    "shipped": gettext_lazy("已发货"),
    "delivered": gettext_lazy("已签收"),
    "completed": gettext_lazy("已完成"),
    "approved": gettext_lazy("已同意"),
    "created": gettext_lazy("已创建"),
    "submitted": gettext_lazy("已提交"),
    "listed": gettext_lazy("已上架"),
    "all batches passed inspection": gettext_lazy("所有批次抽检合格"),
    "started by host": gettext_lazy("主播开始秒杀"),
    "the stream ended": gettext_lazy("直播已结束"),
    "countdown over": gettext_lazy("倒计时结束"),
    "sold out": gettext_lazy("已售罄"),
    "time up": gettext_lazy("时间到"),
    "review started": gettext_lazy("开始审核"),
    "filed": gettext_lazy("已提交"),
    "packed": gettext_lazy("已打包"),
    "confirmed by buyer": gettext_lazy("买家确认收货"),
    "confirmed by staff": gettext_lazy("工作人员确认送达"),
    "nothing left to send (refunded or cancelled)": gettext_lazy("无需再发货（已退款或已取消）"),
    "scheduled": gettext_lazy("已安排"),
    "started": gettext_lazy("开播"),
    "started by the media server": gettext_lazy("推流开始，自动开播"),
    "shipping address set": gettext_lazy("填写了收货地址"),
    "shipping address changed": gettext_lazy("修改了收货地址"),
}


def _rest(text: str) -> str:
    return reason_label(text)


# (pattern, label maker) tried in order; the groups are machine values or nested reasons.
PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"payment (\S+)"), lambda m: _("支付成功（支付单号 %(ref)s）") % {"ref": m[1]}),
    (re.compile(r"partial refund: (.+)", re.S), lambda m: _("部分退款：%(why)s") % {"why": _rest(m[1])}),
    (re.compile(r"refund refused: (.*)", re.S), lambda m: _("拒绝退款：%(why)s") % {"why": _rest(m[1])}),
    (re.compile(r"cancelled by seller: (.*)", re.S), lambda m: _("卖家取消：%(why)s") % {"why": _rest(m[1])}),
    (re.compile(r"after-sales #(\d+)(?:: (.*))?", re.S),
     lambda m: (_("售后申请 #%(n)s：%(why)s") % {"n": m[1], "why": _rest(m[2])}) if m[2]
     else _("售后申请 #%(n)s") % {"n": m[1]}),
    (re.compile(r"refunded (\d+(?:\.\d+)?)"), lambda m: _("已退款 ¥%(amount)s") % {"amount": m[1]}),
    (re.compile(r"order (\w+)"), lambda m: _("订单%(status)s") % {"status": _rest(m[1])}),
    (re.compile(r"new batch (.+)"), lambda m: _("新增批次 %(code)s") % {"code": m[1]}),
    (re.compile(r"inspection passed \((.+)\)"), lambda m: _("抽检合格（%(code)s）") % {"code": m[1]}),
    (re.compile(r"inspection failed \((.+)\)"), lambda m: _("抽检不合格（%(code)s）") % {"code": m[1]}),
    (re.compile(r"routed to (.+)"), lambda m: _("分派给 %(who)s") % {"who": m[1]}),
    (re.compile(r"auto-confirmed (\d+) days after shipping"),
     lambda m: _("发货 %(days)s 天后自动确认收货") % {"days": m[1]}),
    # An after-sales request's own history: "<reason value>: <the buyer's evidence>".
    (re.compile(r"([a-z_]+): (.*)", re.S),
     lambda m: f"{_TERMS[m[1]]}：{m[2]}" if m[1] in _TERMS else m[0]),
]


def register_terms(terms: Mapping[str, object]) -> None:
    """Machine values (choice values) that may appear inside reasons, with their (lazy) labels."""
    _TERMS.update(terms)


def reason_label(reason: str | None) -> str:
    """The reason as a person reads it, in the active language; unknown text unchanged."""
    text = (reason or "").strip()
    if not text:
        return ""
    if text in FIXED:
        return str(FIXED[text])
    if text in _TERMS:
        return str(_TERMS[text])
    for pattern, label in PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return label(match)
    return text
