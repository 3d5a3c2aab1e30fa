"""Helpers the fulfilment services share (private to the package)."""

from __future__ import annotations

from django.db import models

from zhunong.accounts.models import User
from zhunong.orders.models import Order
from zhunong.orders.selectors import is_seller


def as_seller(actor: User | None, order: Order) -> User | None:
    """The actor to hand to orders' seller-side services.

    orders lets a user act for the seller only when they cover every line of the order; a producer
    manager of one parcel of a multi-producer order (or a co-op manager packing for a member) does not.
    Fulfilment has already authorised them for their part, so the order moves as the system (None) and
    the human is on record in this app's own history.
    """
    if actor is not None and is_seller(actor, order):
        return actor
    return None


def record_transition(history_model: type[models.Model], fk: str, obj: models.Model, target: str, *,
                      actor: User | None, reason: str = "") -> None:
    """One row of an object's history: from its current status to `target`, by whom and why."""
    history_model.objects.create(**{fk: obj}, from_status=obj.status, to_status=target,
                                 actor=actor if getattr(actor, "is_authenticated", False) else None,
                                 reason=reason[:300])
