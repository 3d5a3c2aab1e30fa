"""Abstract models shared by the domain apps (no tables of its own)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TransitionRecord(models.Model):
    """One step of a state machine's history: who (None: the system or a media callback), why, when.

    Each app's history model adds the foreign key to its subject and `from_status` / `to_status` with its
    machine's choices; the table of allowed steps lives in core.statemachine.TransitionTable.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]
