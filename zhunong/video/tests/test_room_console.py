"""The video inside the live pages: the room shows the player, the host console shows server and key."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts import roles
from zhunong.testing import make_user
from zhunong.video.models import Ingest

pytestmark = pytest.mark.django_db


def _get(user, url: str) -> str:  # noqa: ANN001
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_room_page_has_the_player_and_never_the_key(vroom):  # noqa: ANN001
    html = _get(make_user(roles.BUYER), f"/live/{vroom.stream.pk}/")
    assert 'class="zn-player"' in html and 'data-state="upcoming"' in html
    assert "推流密钥" not in html
    # Even the host's own view of the room is the viewers' view: the key lives on the console only.
    assert "推流密钥" not in _get(vroom.host.user, f"/live/{vroom.stream.pk}/")


def test_host_console_shows_server_and_key(vroom):  # noqa: ANN001
    html = _get(vroom.host.user, f"/live/{vroom.stream.pk}/console/")
    ingest = Ingest.objects.get(stream=vroom.stream)  # made for the host when the console is opened
    assert "推流密钥" in html and ingest.stream_key in html
    assert "未推流" in html and 'class="zn-player"' in html


def test_operator_console_shows_health_without_key(vroom):  # noqa: ANN001
    from zhunong.video.services import ensure_ingest

    key = ensure_ingest(stream=vroom.stream).stream_key
    html = _get(vroom.world.operator, f"/live/{vroom.stream.pk}/console/")
    assert "未推流" in html
    assert key not in html and "推流密钥" not in html


def test_console_shows_each_panel_once(vroom):  # noqa: ANN001
    html = _get(vroom.host.user, f"/live/{vroom.stream.pk}/console/")
    assert html.count('class="card zn-ingest"') == 1
