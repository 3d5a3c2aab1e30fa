"""预约 (booking one scheduled stream): the service, the reminder it brings, and the button on the home page
(shared, cached: the state comes from /following/bookings/) and in the room; without JavaScript, with
htmx, cancellable, and signed-out to sign-in and back."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from zhunong.live import streams as live
from zhunong.live.models import StreamStatus
from zhunong.notifications import services, tasks
from zhunong.notifications.errors import StreamNotFollowable
from zhunong.notifications.kinds import Kind
from zhunong.notifications.models import HostFollow, Notification, StreamReminder
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def upcoming(world):  # noqa: ANN001, ANN201
    return world.live_room(1, status=StreamStatus.SCHEDULED, starts_in=dt.timedelta(minutes=10), title="明早卖蓝莓")


def test_a_booking_brings_the_reminder_and_the_live_note_without_following(upcoming, django_capture_on_commit_callbacks):  # noqa: ANN001
    viewer, other = make_user(), make_user()
    services.book_stream(user=viewer, stream_id=upcoming.stream.pk)
    services.book_stream(user=viewer, stream_id=upcoming.stream.pk)  # twice: one booking
    assert StreamReminder.objects.filter(user=viewer).count() == 1
    assert not HostFollow.objects.filter(user=viewer).exists()
    assert tasks.remind_followers() == 1
    assert Notification.objects.filter(user=viewer, kind=Kind.STREAM_REMINDER).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        live.start_stream(actor=upcoming.host.user, stream=upcoming.stream)
    assert Notification.objects.filter(user=viewer, kind=Kind.STREAM_LIVE).count() == 1
    assert not other.notifications.exists()


def test_only_a_scheduled_stream_is_booked_and_a_booking_can_be_cancelled(world, upcoming):  # noqa: ANN001
    viewer = make_user()
    services.book_stream(user=viewer, stream_id=upcoming.stream.pk)
    services.cancel_booking(user=viewer, stream_id=upcoming.stream.pk)
    services.cancel_booking(user=viewer, stream_id=upcoming.stream.pk)
    assert not StreamReminder.objects.exists()
    assert tasks.remind_followers() == 0
    on_air = world.live_room(1)
    with pytest.raises(StreamNotFollowable):
        services.book_stream(user=viewer, stream_id=on_air.stream.pk)


def test_room_button_without_javascript(upcoming):  # noqa: ANN001
    viewer = make_user()
    client = _signed_in(viewer)
    room = f"/live/{upcoming.stream.pk}/"
    html = client.get(room).content.decode()
    assert 'data-role="book"' in html and f'action="/following/streams/{upcoming.stream.pk}/book/"' in html
    response = client.post(f"/following/streams/{upcoming.stream.pk}/book/", {"next": room})
    assert response.status_code == 302 and response["Location"] == room
    html = client.get(room).content.decode()
    assert 'data-role="booked"' in html and "已预约" in html and "取消预约" in html
    client.post(f"/following/streams/{upcoming.stream.pk}/book/", {"next": room, "action": "cancel"})
    assert not StreamReminder.objects.exists()
    assert 'data-role="book"' in client.get(room).content.decode()


def test_htmx_swaps_the_button_in_place(upcoming):  # noqa: ANN001
    client = _signed_in(make_user())
    url = f"/following/streams/{upcoming.stream.pk}/book/"
    booked = client.post(url, {"next": "/"}, HTTP_HX_REQUEST="true")
    assert booked.status_code == 200 and f'id="book-{upcoming.stream.pk}"' in booked.content.decode()
    assert "已预约" in booked.content.decode()
    cancelled = client.post(url, {"next": "/", "action": "cancel"}, HTTP_HX_REQUEST="true")
    assert 'data-role="book"' in cancelled.content.decode() and not StreamReminder.objects.exists()


def test_signed_out_goes_to_sign_in_and_back(upcoming):  # noqa: ANN001
    url = f"/following/streams/{upcoming.stream.pk}/book/"
    anonymous = Client(enforce_csrf_checks=True)  # the shared page's form has no token
    response = anonymous.post(url, {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/"
    response = anonymous.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == f"/accounts/login/?next=/live/{upcoming.stream.pk}/"
    htmx = anonymous.post(url, {"next": "/"}, HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/accounts/login/?next=/"
    assert not StreamReminder.objects.exists()


def test_a_signed_in_post_needs_the_csrf_token(upcoming):  # noqa: ANN001
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    response = client.post(f"/following/streams/{upcoming.stream.pk}/book/", {"next": "/"})
    assert response.status_code == 403 and not StreamReminder.objects.exists()


def test_home_page_is_shared_and_the_state_comes_from_bookings(upcoming, world):  # noqa: ANN001
    on_air = world.live_room(1, title="正在卖")
    viewer = make_user()
    services.book_stream(user=viewer, stream_id=upcoming.stream.pk)
    mine, anonymous = _signed_in(viewer).get("/").content.decode(), Client().get("/").content.decode()
    section = re.compile(r'<section class="section" aria-labelledby="streams-h">.*?</section>', re.S)
    assert section.search(mine).group(0) == section.search(anonymous).group(0)  # the same for everyone
    assert f'action="/following/streams/{upcoming.stream.pk}/book/"' in anonymous
    assert f'/following/streams/{on_air.stream.pk}/book/' not in anonymous  # live: watch, not book
    assert f"streams={upcoming.stream.pk}," in anonymous
    states = _signed_in(viewer).get(f"/following/bookings/?next=/&streams={upcoming.stream.pk},{on_air.stream.pk},x")
    body = states.content.decode()
    assert 'hx-swap-oob="true"' in body and "已预约" in body and f"book-{on_air.stream.pk}" not in body
    assert "no-cache" in states["Cache-Control"] or "max-age=0" in states["Cache-Control"]
    assert Client().get(f"/following/bookings/?streams={upcoming.stream.pk}").content == b""


def test_bookings_are_in_the_data_export_and_go_with_the_account(upcoming):  # noqa: ANN001
    from zhunong.notifications import personal_data

    viewer = make_user()
    services.book_stream(user=viewer, stream_id=upcoming.stream.pk)
    assert {"booked_stream": "明早卖蓝莓"}.items() <= personal_data._follows(viewer)[-1].items()
    assert personal_data._erase_follows(viewer) == 1
    assert not StreamReminder.objects.exists()
