"""One transition table per state machine (django-oscar style: status -> allowed next statuses).

Services call `table.check(current, target)` before every state change and record the change in the
machine's history model; nothing else writes a status field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import InvalidTransition


class TransitionTable:
    def __init__(self, name: str, transitions: Mapping[str, Iterable[str]]) -> None:
        self.name = name
        self.transitions: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in transitions.items()}
        unknown = {t for targets in self.transitions.values() for t in targets} - set(self.transitions)
        if unknown:
            raise ValueError(f"{name}: targets without an entry of their own: {sorted(unknown)}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions)

    def allowed(self, current: str) -> frozenset[str]:
        return self.transitions.get(current, frozenset())

    def can(self, current: str, target: str) -> bool:
        return target in self.allowed(current)

    def check(self, current: str, target: str) -> None:
        if not self.can(current, target):
            raise InvalidTransition(
                f"{self.name}: cannot go from '{current}' to '{target}'.",
                details={"from": current, "to": target, "allowed": sorted(self.allowed(current))},
            )
