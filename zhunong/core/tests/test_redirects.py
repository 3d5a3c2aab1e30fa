"""`next` parameters stay on this site."""

import pytest

from zhunong.core.redirects import local_path


@pytest.mark.parametrize("candidate", ["/", "/live/3/", "/search/?q=蓝莓&page=2"])
def test_paths_on_this_site_are_kept(candidate):
    assert local_path(candidate, "/fallback/") == candidate


@pytest.mark.parametrize("candidate", [None, "", "live/3/", "//evil.example/", "https://evil.example/",
                                       "/\\evil.example", "javascript:alert(1)", 42])
def test_anything_else_falls_back(candidate):
    assert local_path(candidate, "/fallback/") == "/fallback/"
