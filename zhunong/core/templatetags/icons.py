"""Inline SVG icons: `{% icon "cart" %}` instead of emoji, which need a colour-emoji font that many phones and
servers lack (issue 15). Drawn on a 24-unit grid in `currentColor`, so an icon takes the colour and size of
the text around it (site.css `.icon`); decorative (`aria-hidden`), the words next to it carry the meaning.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# name -> the inside of a 24x24 <svg> (stroke-drawn unless the shape says fill).
SHAPES: dict[str, str] = {
    "eye": '<path d="M2 12s3.6-6.5 10-6.5S22 12 22 12s-3.6 6.5-10 6.5S2 12 2 12z"/><circle cx="12" cy="12" r="3"/>',
    "heart": '<path d="M12 20s-7.5-4.6-7.5-10A4.2 4.2 0 0 1 12 7.6 4.2 4.2 0 0 1 19.5 10c0 5.4-7.5 10-7.5 10z"/>',
    "play": '<path d="M8 5.5v13l10.5-6.5z" fill="currentColor"/>',
    "stop": '<rect x="6.5" y="6.5" width="11" height="11" rx="1" fill="currentColor"/>',
    "cart": '<path d="M3 4h2.4l2.2 10.5h10l2-7.5H6.3"/><circle cx="9" cy="19" r="1.4"/><circle cx="17" cy="19" r="1.4"/>',
    "megaphone": '<path d="M4 10v4h3l8 4.5v-13L7 10z"/><path d="M18 9.5a3.5 3.5 0 0 1 0 5"/><path d="M7 14l1.5 5"/>',
    "bolt": '<path d="M13.5 2.5 5 13.5h6l-1 8 8.5-11h-6z" fill="currentColor"/>',
    "ticket": '<path d="M3 7.5h18v3a1.8 1.8 0 0 0 0 3.5v3H3v-3a1.8 1.8 0 0 0 0-3.5z"/><path d="M9.5 8v8" stroke-dasharray="1.6 1.6"/>',
    "flower": '<circle cx="12" cy="12" r="2.2"/><path d="M12 9.8c-2-3.8 2-6 2-3.4M14.2 12c3.8-2 6 2 3.4 2M12 14.2c2 3.8-2 6-2 3.4M9.8 12c-3.8 2-6-2-3.4-2"/>',
    "bell": '<path d="M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 1.5h-15z"/><path d="M10 20.5a2.2 2.2 0 0 0 4 0"/>',
    "star": '<path d="m12 3.5 2.6 5.4 5.9.8-4.3 4.1 1 5.8L12 16.8l-5.2 2.8 1-5.8-4.3-4.1 5.9-.8z" fill="currentColor"/>',
    "star-empty": '<path d="m12 3.5 2.6 5.4 5.9.8-4.3 4.1 1 5.8L12 16.8l-5.2 2.8 1-5.8-4.3-4.1 5.9-.8z"/>',
}


def render_icon(name: str) -> SafeString:
    shape = SHAPES[name]  # an unknown name is a template mistake: fail loudly in tests, not a blank square
    return format_html(
        '<svg class="icon icon-{}" data-icon="{}" viewBox="0 0 24 24" width="24" height="24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" '
        'focusable="false">{}</svg>', name, name, mark_safe(shape))  # noqa: S308 (the shapes above are constants)


@register.simple_tag
def icon(name: str) -> SafeString:
    return render_icon(name)
