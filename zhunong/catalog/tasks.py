"""Huey tasks of the catalog: the renditions of uploaded product photos."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from . import services


@db_task(retries=2, retry_delay=10)
def render_product_image(image_id: int) -> str:
    image = services.process_product_image(image_id=image_id)
    return image.status if image is not None else "gone"


def queue_image_processing(sender: object = None, *, image_id: int, **kwargs: object) -> None:
    """Receiver of catalog.signals.product_image_uploaded (after commit)."""
    render_product_image(image_id)
