"""Signals other apps connect to (e.g. fulfilment routes a paid order's lines to their producers).

`order_transitioned` is sent *inside* the transaction that changes the status, so a receiver's writes
commit or roll back with it; realtime notifications go out only after commit (core/events.py).
Arguments: order, from_status, to_status, actor (None for the system), reason.

`order_refunded` is sent inside the transaction that takes money back from an order's lines (a refund, a
seller's cancellation of a paid order; a partial refund changes no status): payments records the refund,
debits the producers' ledger and asks the gateway after commit. Arguments: order, amounts ({line id:
Decimal}), reason, actor (who decided it; None for the system), which payments writes to the audit log.
"""

from django.dispatch import Signal

order_transitioned = Signal()
order_refunded = Signal()
# Sent after the commit that scheduled a flash sale (argument: sale); tasks.py sets its timers.
flash_sale_scheduled = Signal()
# Sent inside the caller's transaction to learn how many parcels of an order have left; fulfilment, which
# owns the parcels, answers with an int (orders sits below it and cannot read them). With lock=True the
# answering app first locks the order's parcels (after the order: one lock order), so a parcel being
# shipped right now either finished first or waits. Arguments: order, lock.
parcels_shipped = Signal()
