"""The base of every JSON request body schema: integers, numbers and booleans are taken only as JSON says them.

pydantic's default (lax) mode turns the string "5" and the number 5.0 into the integer 5, and 1 or "true"
into True, so a request that the OpenAPI document says is invalid (`"quantity": "5"` where an integer is
declared) would be accepted. Every request body schema derives from `RequestSchema` instead of ninja's
`Schema`; each of its `int`, `float` and `bool` fields -- bare, optional, in a list or a dict, or under an
`Annotated[...]` alias such as `Id` -- is made strict when the class is built:

| declared | accepted | refused (422 `invalid`) |
|---|---|---|
| `int` | `5` | `"5"`, `5.0`, `true` |
| `float` | `5`, `5.5` | `"5.5"`, `true` |
| `bool` | `true`, `false` | `1`, `"true"`, `null` (unless optional) |

Query and path parameters are not bodies: they arrive as text, and stay lax ("?limit=5").
Money is not a float: `accounts.api.decimal_field` (a JSON number or a decimal string with a pattern).
zhunong/core/tests/test_schemas.py checks that every operation's body schema derives from this class.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from ninja import Schema
from pydantic import Strict

_STRICT_TYPES = (int, float, bool)


def strict_annotation(annotation: Any) -> Any:  # noqa: ANN401 (a type annotation)
    """`annotation` with every int, float and bool in it strict (the same object when there is none)."""
    if annotation in _STRICT_TYPES:
        return Annotated[annotation, Strict()]
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        inner = strict_annotation(args[0])
        return annotation if inner is args[0] else Annotated[(inner, *args[1:])]
    if origin in (Union, types.UnionType):
        inner = tuple(strict_annotation(a) for a in args)
        return annotation if inner == args else Union[inner]  # noqa: UP007 (built from a tuple)
    if origin in (list, set, frozenset, tuple, dict) and args:
        inner = tuple(a if a is Ellipsis else strict_annotation(a) for a in args)
        return annotation if inner == args else origin[inner if len(inner) > 1 else inner[0]]
    return annotation


class RequestSchema(Schema):
    """A JSON request body: int, float and bool fields are strict (see the module's table)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.model_fields.values():
            strict = strict_annotation(field.annotation)
            if strict is not field.annotation:
                field.annotation = strict
                changed = True
        if changed:
            cls.model_rebuild(force=True)
