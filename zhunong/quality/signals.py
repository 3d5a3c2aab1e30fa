"""Signals quality sends for the apps above it (catalog lists or delists products on an inspection).

Sent inside the writing transaction, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# Sent by services.record_inspection with: batch (a locked HarvestBatch), inspection, passed (bool),
# actor (the inspector).
inspection_recorded = Signal()
