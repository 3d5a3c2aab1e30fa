"""The `zhunong` console script: Django's management commands under one name.

`zhunong seed-demo` is `manage.py seed_demo`; hyphens in the command name become underscores.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhunong.settings")
    # Imported after the settings module is chosen, as Django's manage.py does.
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "zhunong"
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
