"""Trace codes: the opaque short code printed on packs and in the QR (pure functions, no queries)."""

from __future__ import annotations

import secrets

# Crockford-style alphabet without 0/O/1/I/L/U: easy to read aloud and type from a pack.
TRACE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACE_CODE_LENGTH = 10


def new_trace_code() -> str:
    return "".join(secrets.choice(TRACE_ALPHABET) for _ in range(TRACE_CODE_LENGTH))


def is_valid_trace_code(code: str) -> bool:
    return len(code) == TRACE_CODE_LENGTH and all(c in TRACE_ALPHABET for c in code)
