"""Where a `next` parameter may send a visitor back to: a path on this site, never another host."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def local_path(candidate: object, fallback: str) -> str:
    """`candidate` when it is a path on this site ("/live/3/?x=1"), else `fallback`. A leading "/" and no
    host: "//evil.example/" and "https://…" are refused (open redirects), as is anything not text."""
    if isinstance(candidate, str) and candidate.startswith("/") \
            and url_has_allowed_host_and_scheme(candidate, allowed_hosts=None):
        return candidate
    return fallback
