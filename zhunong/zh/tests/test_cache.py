"""jieba's dictionary cache lives under var/, never at a predictable path in the shared temp directory."""

import tempfile
from pathlib import Path

from django.conf import settings

from zhunong.zh import text


def test_dictionary_cache_is_written_under_var_not_tmp():
    tk = text.new_tokenizer()
    cache_dir = Path(tk.tmp_dir).resolve()
    assert cache_dir.is_relative_to(Path(settings.VAR_DIR).resolve())
    # Not jieba's default: the shared temp directory itself, where anyone can plant the file it loads.
    # (The checkout itself may live under /tmp, as CI's clone does, so compare with the directory, not a prefix.)
    assert cache_dir != Path(tempfile.gettempdir()).resolve()
    tk.initialize()
    assert list(cache_dir.glob("jieba*.cache")), "the cache is written where it is read from"
    assert cache_dir.stat().st_mode & 0o077 == 0, "only the platform's user reads the marshal cache"
