#!/usr/bin/env python
"""Django's manage.py; the `zhunong` console script does the same."""

from zhunong.cli import main

if __name__ == "__main__":
    main()
