"""The audit log page (/backoffice/audit/): platform admins and the discipline-inspection office."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhunong.core.audit import ACTIONS
from zhunong.core.errors import ValidationFailed
from zhunong.core.models import AuditEntry

from . import auditlog, policy


def _values(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not policy.may_hold(request.user, "audit.view"):
        raise PermissionDenied
    error = ""
    try:
        chosen = auditlog.parse_filter(request.GET)
    except ValidationFailed as exc:
        chosen, error = auditlog.AuditFilter(), exc.message
    qs = auditlog.apply_filter(auditlog.entries_visible_to(request.user), chosen)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [{"entry": e, "label": auditlog.action_label(e.action), "before": _values(e.before),
             "after": _values(e.after)} for e in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/audit_log.html", {
        "page": page, "rows": rows, "filter": chosen, "error": error, "query": query.urlencode(),
        "actions": sorted(ACTIONS.items()), "outcomes": AuditEntry.Outcome.choices,
    }, status=422 if error else 200)
