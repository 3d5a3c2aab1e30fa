"""Sent after the commit that created notifications: tasks.py queues their deliveries (services never import
the Huey tasks, which import them). Argument: delivery_ids."""

from django.dispatch import Signal

deliveries_queued = Signal()
