"""Every page built on base.html names a favicon that exists (else browsers ask for /favicon.ico: a 404)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_links_an_existing_favicon():
    html = Client().get("/").content.decode()
    match = re.search(r'<link rel="icon" href="/static/([^"]+)"', html)
    assert match, "no favicon link in base.html"
    assert finders.find(match.group(1)) is not None


def test_favicon_ico_leads_to_the_icon_for_pages_without_base_html():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/zhunong/favicon.svg")
