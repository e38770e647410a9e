"""``OPENISSUING_SQLITE_SYNCHRONOUS``: every SQLite connection runs WAL with the chosen
``PRAGMA synchronous`` (README, "Durability")."""

from __future__ import annotations

import pytest

from openissuing.settings import Settings
from openissuing.storage.db import make_engine

LEVELS = {"normal": 1, "full": 2}  # what PRAGMA synchronous reads back


@pytest.mark.parametrize("level", ["normal", "full"])
def test_each_connection_uses_the_chosen_synchronous_level(tmp_path, level):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}", sqlite_synchronous=level)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == LEVELS[level]
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_normal_is_the_default_and_full_is_read_from_the_environment(monkeypatch):
    assert Settings().sqlite_synchronous == "normal"
    monkeypatch.setenv("OPENISSUING_SQLITE_SYNCHRONOUS", "full")
    assert Settings().sqlite_synchronous == "full"
    monkeypatch.setenv("OPENISSUING_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ValueError):
        Settings()


def test_a_level_other_than_normal_or_full_is_refused(tmp_path):
    with pytest.raises(ValueError):
        make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}", sqlite_synchronous="off")


def test_the_runtime_passes_the_setting_to_its_engine(tmp_path):
    from openissuing.app import build_runtime

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        encryption_key_file=str(tmp_path / "key"),
        sqlite_synchronous="full",
        webhook_dispatcher=False,
    )
    runtime = build_runtime(settings)
    try:
        with runtime.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == LEVELS["full"]
    finally:
        runtime.engine.dispose()
