"""The base of every JSON request body schema: integers, numbers and booleans are taken only as JSON says them.

pydantic's default (lax) mode turns the string "5" and the boolean true into the integer 5 and 1, and 1 or
"true" into True, so a request that the OpenAPI document says is invalid (`"quantity": "5"` where an integer
is declared) would be accepted. Every request body schema derives from `RequestSchema` instead of ninja's
`Schema`; each of its `int`, `float` and `bool` fields -- bare, optional, in a list or a dict, or under an
`Annotated[...]` alias such as `Id` -- is made strict when the class is built:

| declared | accepted | refused (422 `invalid`) |
|---|---|---|
| `int` | `5`, `5.0` | `"5"`, `5.5`, `true` |
| `float` | `5`, `5.5` | `"5.5"`, `true` |
| `bool` | `true`, `false` | `1`, `"true"`, `null` (unless optional) |

`5.0` is an integer in JSON Schema (draft 2020-12: a number whose fractional part is zero), so the
document allows it and it is taken as 5; anything with a fraction is not.

Query and path parameters are not bodies: they arrive as text, and stay lax ("?limit=5").
Money is not a float: `accounts.api.decimal_field` (a JSON number or a decimal string with a pattern).
zhunong/core/tests/test_schemas.py checks that every operation's body schema derives from this class.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import Strict, model_validator

_STRICT_TYPES = (int, float, bool)


def _integral(value: object) -> object:
    """5.0 -> 5 (a JSON integer written with a zero fraction); anything else as it is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _takes_integers(annotation: Any) -> str | None:  # noqa: ANN401
    """'one' for an int field (optional or not), 'many' for a list of ints, else None."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is int:
        return "one"
    if origin is Annotated:
        return _takes_integers(args[0])
    if origin in (Union, types.UnionType):
        kinds = {_takes_integers(a) for a in args if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin is list and args and _takes_integers(args[0]) == "one":
        return "many"
    return None


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

    __integer_fields__: dict[str, str] = {}

    @model_validator(mode="before")
    @classmethod
    def _integral_floats(cls, data: Any) -> Any:  # noqa: ANN401
        # ninja's own (wrap) validator has already wrapped the body in a DjangoGetter.
        body = data._obj if isinstance(data, DjangoGetter) else data
        if isinstance(body, dict) and cls.__integer_fields__:
            body = dict(body)
            for name, kind in cls.__integer_fields__.items():
                if name in body:
                    value = body[name]
                    body[name] = [_integral(v) for v in value] if kind == "many" and isinstance(value, list) \
                        else _integral(value)
            if isinstance(data, DjangoGetter):
                data._obj = body
                return data
            return body
        return data

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401
        super().__pydantic_init_subclass__(**kwargs)
        cls.__integer_fields__ = {field.alias or name: kind for name, field in cls.model_fields.items()
                                  if (kind := _takes_integers(field.annotation))}
        changed = False
        for field in cls.model_fields.values():
            strict = strict_annotation(field.annotation)
            if strict is not field.annotation:
                field.annotation = strict
                changed = True
        if changed:
            cls.model_rebuild(force=True)
