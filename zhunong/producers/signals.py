"""Signals producers sends for the apps above it (quality records a batch's trace events).

Sent inside the writing transaction, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# Sent by services.create_batch with: batch (the new HarvestBatch).
batch_harvested = Signal()
