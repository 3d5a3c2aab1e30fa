"""The header's role places (includes/personal_nav.html)."""

from __future__ import annotations

from django import template

from zhunong.workbench.places import Place, places_for

register = template.Library()


@register.simple_tag(takes_context=True)
def header_places(context: template.Context) -> list[Place]:
    """The places of the signed-in user's roles that belong in the header (none for buyers)."""
    return [p for p in places_for(context.get("user")) if p.header]
