"""Icons are inline SVG ({% icon %}), not emoji: a phone or server without a colour-emoji font shows empty
boxes for emoji (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

import zhunong
from zhunong.core.templatetags.icons import SHAPES

# Characters that browsers draw from a colour-emoji font: the pictographs, and the few older symbols with an
# emoji presentation the templates used (⚡ ❤ ▶ ⭐ ⏰ ✅ ❌). Text symbols such as ★ ☆ ✓ are in ordinary fonts.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u26A1\u2764\u25B6\u2B50\u23F0\u2705\u274C\uFE0F]")


def test_icon_renders_inline_svg_in_the_text_colour() -> None:
    html = Template('{% load icons %}<button>{% icon "cart" %} 购物车</button>').render(Context())
    svg = re.search(r"<svg [^>]*>.*</svg>", html)
    assert svg, html
    assert 'aria-hidden="true"' in svg.group(0)
    assert 'stroke="currentColor"' in svg.group(0)
    assert 'data-icon="cart"' in svg.group(0)
    assert "<path" in svg.group(0)


def test_an_unknown_icon_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        Template('{% load icons %}{% icon "no-such-icon" %}').render(Context())


def test_every_icon_has_a_shape() -> None:
    for name, shape in SHAPES.items():
        assert re.fullmatch(r"[a-z-]+", name)
        assert shape.startswith("<") and shape.endswith(">"), name


def test_no_template_or_script_uses_emoji_as_icons() -> None:
    root = Path(zhunong.__file__).parent
    found = [f"{path.relative_to(root)}:{number}: {EMOJI.search(line).group(0)!r}"
             for pattern in ("*.html", "*.js")
             for path in root.rglob(pattern)
             if "vendor" not in path.parts
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if EMOJI.search(line)]
    assert not found, found
