"""The pages' Content-Security-Policy lets the browser load what the media server serves: HLS (media-src,
connect-src) and the replays' cover images (img-src) - the sweep found covers blocked on /replays/."""

from django.conf import settings


def test_replay_covers_from_the_media_server_are_allowed() -> None:
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert settings.CSP_MEDIA_ORIGINS
    for origin in settings.CSP_MEDIA_ORIGINS:
        assert origin in directives["img-src"] and origin in directives["media-src"]
