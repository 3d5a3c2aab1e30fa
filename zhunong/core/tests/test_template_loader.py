"""Production settings render templates through Django's cached loader (each template parsed once per process).

settings.TEMPLATES sets no "loaders", so Django wraps the filesystem and app-directory loaders in the cached
loader; a future "loaders" option must keep it. Checked in a fresh process with DEBUG unset, as production runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

CHECK = textwrap.dedent("""
    import json
    import django
    django.setup()
    from django.conf import settings
    from django.template import engines
    engine = engines["django"].engine
    outer = engine.template_loaders
    engine.get_template("base.html")
    engine.get_template("base.html")
    print(json.dumps({
        "debug": settings.DEBUG,
        "loaders": [type(x).__module__ for x in outer],
        "inner": [type(x).__module__ for x in getattr(outer[0], "loaders", [])],
        "cached": len(getattr(outer[0], "get_template_cache", {})),
    }))
""")


def test_production_settings_use_the_cached_template_loader(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="zhunong.settings", ZHUNONG_VAR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False
    assert seen["loaders"] == ["django.template.loaders.cached"]
    assert seen["inner"] == ["django.template.loaders.filesystem", "django.template.loaders.app_directories"]
    assert seen["cached"] >= 1  # base.html is kept after its first load
