"""Signals other apps connect to (e.g. fulfilment routes a paid order's lines to their producers).

`order_transitioned` is sent *inside* the transaction that changes the status, so a receiver's writes
commit or roll back with it; realtime notifications go out only after commit (core/events.py).
Arguments: order, from_status, to_status, actor (None for the system), reason.
"""

from django.dispatch import Signal

order_transitioned = Signal()
