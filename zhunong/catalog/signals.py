"""Signals catalog sends after commit to the parts of itself that must not be imported by its services."""

from django.dispatch import Signal

# A product photo was stored and waits for its renditions; kwargs: image_id. Sent after commit;
# catalog.tasks.queue_image_processing hands it to the worker (connected in CatalogConfig.ready).
product_image_uploaded = Signal()
