"""The database connection pool is on by default with PostgreSQL (settings.DB_POOL_SIZE; docs/decisions/0023)."""

from __future__ import annotations

import runpy

import pytest

import zhunong.settings


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path, **env: str) -> dict:  # noqa: ANN001
    monkeypatch.setenv("ZHUNONG_VAR", str(tmp_path))
    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # Nothing connects: the settings module only builds the dictionaries.
    return runpy.run_path(zhunong.settings.__file__)


def test_postgresql_gets_a_pool_of_eight_per_process(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    values = _settings(monkeypatch, tmp_path, DATABASE_URL="postgres://u@127.0.0.1:5432/zh")
    assert values["DATABASES"]["default"]["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 30}
    # Persistent per-thread connections stay off: under ASGI every request has a thread of its own.
    assert values["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


def test_the_size_is_configurable_and_zero_turns_the_pool_off(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    url = "postgres://u@127.0.0.1:5432/zh"
    assert _settings(monkeypatch, tmp_path, DATABASE_URL=url, DB_POOL_SIZE="3")["DATABASES"]["default"][
        "OPTIONS"]["pool"]["max_size"] == 3
    assert "pool" not in _settings(monkeypatch, tmp_path, DATABASE_URL=url, DB_POOL_SIZE="0")["DATABASES"][
        "default"].get("OPTIONS", {})


def test_sqlite_has_no_pool(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    values = _settings(monkeypatch, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    assert "pool" not in values["DATABASES"]["default"]["OPTIONS"]
