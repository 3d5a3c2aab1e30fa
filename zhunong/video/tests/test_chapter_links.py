"""Chapter links (?t=) land inside their chapter, so without JavaScript the shelf shows the right product."""

from __future__ import annotations

import pytest

from zhunong.video.models import Chapter

from .test_pages_api import _ready_replay

pytestmark = pytest.mark.django_db


def _shelf(client, url: str) -> str:  # noqa: ANN001
    return client.get(url).content.decode().split('id="zn-shelf-now"', 1)[1].split("</aside>", 1)[0]


def test_links_of_chapters_starting_between_seconds(client, vroom, key, video_dirs):  # noqa: ANN001
    replay = _ready_replay(client, vroom, key, video_dirs)
    first, second = replay.chapters.order_by("start_s")
    # Pins rarely fall on whole seconds: 10.4 s and 40.4 s into the recording (40 would still be the first).
    Chapter.objects.filter(pk=first.pk).update(start_s=10.4, end_s=40.4)
    Chapter.objects.filter(pk=second.pk).update(start_s=40.4, end_s=120.0)
    listing = client.get("/replays/").content.decode()
    assert f"/replays/{replay.pk}/?t=11" in listing and f"/replays/{replay.pk}/?t=41" in listing
    detail = client.get(f"/replays/{replay.pk}/").content.decode()
    assert 'href="?t=11"' in detail and 'href="?t=41"' in detail
    assert vroom.products[1].name in _shelf(client, f"/replays/{replay.pk}/?t=41")
    assert vroom.products[1].name not in _shelf(client, f"/replays/{replay.pk}/?t=11")
    # A chapter shorter than the rest of its second keeps its exact start (rounded up to the millisecond).
    Chapter.objects.filter(pk=first.pk).update(start_s=10.2, end_s=10.6)
    Chapter.objects.filter(pk=second.pk).update(start_s=10.6, end_s=120.0)
    detail = client.get(f"/replays/{replay.pk}/").content.decode()
    assert 'href="?t=10.200"' in detail and 'href="?t=11"' in detail
    assert vroom.products[0].name in _shelf(client, f"/replays/{replay.pk}/?t=10.200")
