"""Django's `{# ... #}` comment is single-line: one that spans lines is printed on the page as text (it was, in
the live room's player, at 390 px). Longer comments use {% comment %}."""

from pathlib import Path

import zhunong


def test_no_template_has_a_multi_line_hash_comment() -> None:
    root = Path(zhunong.__file__).parent
    broken = [f"{path.relative_to(root)}:{number}"
              for path in root.rglob("*.html")
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
              if "{#" in line and "#}" not in line.split("{#", 1)[1]]
    assert not broken, broken
