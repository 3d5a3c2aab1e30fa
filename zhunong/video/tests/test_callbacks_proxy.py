"""Media callbacks behind a reverse proxy: the proxy's own (loopback) address is not the media server's.

A front nginx on the platform's machine connects to uvicorn from 127.0.0.1 for every internet client, so
REMOTE_ADDR alone would let anyone who knows or guesses the token through. Like the rest of the platform
(TRUSTED_PROXY_COUNT), the address is the one the outermost trusted proxy saw; a request that came through
a proxy the platform was not told about is refused.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from zhunong.video.models import RefusedPublish

from .conftest import TOKEN, form


def _post(client, data, *, remote="127.0.0.1", **headers):  # noqa: ANN001, ANN003, ANN202
    return client.post(f"/video/rtmp/publish?{urlencode({'token': TOKEN})}", data=urlencode(data),
                       content_type="application/x-www-form-urlencoded", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize("headers", [{"HTTP_X_FORWARDED_FOR": "203.0.113.9"},
                                     {"HTTP_FORWARDED": "for=203.0.113.9"},
                                     {"HTTP_X_FORWARDED_FOR": "127.0.0.1"}])
def test_a_callback_through_an_undeclared_proxy_is_refused(client, vroom, key, settings, headers):  # noqa: ANN001
    settings.TRUSTED_PROXY_COUNT = 0
    assert _post(client, form(name=key), **headers).status_code == 403
    assert list(RefusedPublish.objects.values_list("code", flat=True)) == ["forbidden_source"]


def test_behind_a_trusted_proxy_the_address_it_saw_decides(client, vroom, key, settings):  # noqa: ANN001
    settings.TRUSTED_PROXY_COUNT = 1
    # An internet client through the proxy: refused, whatever it puts on the left of X-Forwarded-For.
    assert _post(client, form(name=key), HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9").status_code == 403
    # The media server through the same proxy (the proxy saw 127.0.0.1): allowed.
    assert _post(client, form(name=key), HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 302


def test_a_direct_callback_still_works_behind_a_trusted_proxy(client, vroom, key, settings):  # noqa: ANN001
    settings.TRUSTED_PROXY_COUNT = 1
    assert _post(client, form(name=key)).status_code == 302
