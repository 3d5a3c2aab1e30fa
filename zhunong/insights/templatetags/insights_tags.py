"""Template tags of the data centre: charts with their screen-reader table, the header link."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from zhunong.accounts import policy

register = template.Library()


@register.inclusion_tag("insights/_chart.html")
def dc_chart(chart: dict) -> dict[str, Any]:
    """A chart spec (views._line_chart) -> the figure, its json_script data and the same data as a table."""
    series = chart.get("series", [])
    rows = [(label, [s["data"][i] if i < len(s["data"]) else "" for s in series])
            for i, label in enumerate(chart.get("x", []))]
    return {"chart": chart, "chart_script_id": f"chart-{chart['id']}", "chart_rows": rows}


@register.inclusion_tag("insights/_table.html", takes_context=True)
def dc_table(context: template.Context, slug: str) -> dict[str, Any]:
    return {"table": context.get("tables", {}).get(slug), "query": context.get("query", "")}


@register.simple_tag(takes_context=True)
def data_centre_link(context: template.Context) -> str:
    """The header's link to the data centre, for users whose role opens it (county operators, regulators,
    platform admins)."""
    user = context.get("user")
    if user is None or not policy.may_hold(user, "insights.view"):
        return ""
    return format_html('<a href="{}">{}</a>', reverse("insights:home"), _("数据中心"))


@register.simple_tag(takes_context=True)
def dc_can(context: template.Context, action: str, obj: Any = None) -> bool:
    """May the page's user do `action` (to `obj`)? So the data centre links only to what the user can open
    (the regulator sees the centre but may not import orders)."""
    return policy.can(context.get("user"), action, obj)
