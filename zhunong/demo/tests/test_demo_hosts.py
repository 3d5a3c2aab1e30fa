"""The demo's hosts: real-name verified with checksum-valid numbers, trained through the course, and a stream
marked with the three thirds."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from zhunong.accounts import idnumber, idvault
from zhunong.demo import world as demo
from zhunong.live.models import Certificate, Course, Host, HostIdentity, StreamSegment

pytestmark = pytest.mark.django_db


def test_every_demo_host_is_verified_with_a_valid_unique_number_and_trained_ones_hold_a_certificate():
    call_command("seed_demo", stdout=io.StringIO())
    hosts = list(Host.objects.select_related("channel__county"))
    assert hosts and all(h.is_verified for h in hosts)
    identities = {i.host_id: i for i in HostIdentity.objects.all()}
    assert set(identities) == {h.pk for h in hosts}
    numbers = set()
    for host in hosts:
        number = idvault.decrypt(identities[host.pk].id_ciphertext)
        rid = idnumber.parse(number, today=timezone.localdate())
        assert rid.age_on(timezone.localdate()) >= 16
        assert identities[host.pk].region_agreement == "same_county"  # the demo counties' real codes
        numbers.add(number)
    assert len(numbers) == len(hosts)
    course = Course.objects.get(title=demo.TRAINING_COURSE, county__code=demo.MAIN_COUNTY_CODE)
    assert course.sessions.count() == 2
    trained = Host.objects.get(user__username="host-anhua-villager")
    assert Certificate.objects.filter(course=course, host=trained).exists() and trained.trained_at is not None
    assert StreamSegment.objects.filter(stream__channel__county__code=demo.MAIN_COUNTY_CODE).count() >= 4
