"""Writes for fulfilment (一件代发) and after-sales. Every write is one transaction.

One module per state machine, each with its TransitionTable and its history:

    shipments    pending ─▶ packed ─▶ shipped ─▶ delivered          (+ exception, cancelled)
                 (also routing a paid order to its producers, and the time-driven steps)
    after_sales  requested ─▶ approved ─▶ refunded  |  requested ─▶ rejected
    complaints   open ─▶ in_progress ─▶ resolved | dismissed
    pledges      claim: submitted ─▶ under_review ─▶ upheld ─▶ compensated  |  under_review ─▶ rejected

and `reviews` (no state machine), `sweep` (the periodic run of the time-driven steps), `_common` (helpers
they share). Import the module you need; this package re-exports nothing, so its modules never import
each other through it.

The order's own machine belongs to `zhunong.orders.services`; fulfilment moves it only through those
services: all parcels shipped → mark_shipped, all delivered → mark_delivered, the after-sales window
closed → complete_order, refunds → request_refund / refund.
"""
