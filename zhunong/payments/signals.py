"""Signals of payments.

`webhook_queued` is sent after the commit that queued a sandbox gateway webhook (arguments: webhook_id,
delay in seconds); tasks.py schedules its delivery, so the gateway need not import the task queue.
"""

from django.dispatch import Signal

webhook_queued = Signal()
