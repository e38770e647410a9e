"""Where a database is, and whether it is there: so commands answer in one line, not a traceback.

``serve`` and ``migrate`` may create a SQLite file (that is how a first start works), but a
read-only command (``check-ledger``, ``deliveries``, ``endpoints list``, ``api-key``) run in the
wrong folder must not leave an empty database behind: it says where it looked and fails.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from openissuing.storage.db import make_engine


class DatabaseUnavailable(Exception):
    """The database cannot be used; ``str()`` is the one line to show the user."""


def sqlite_path(url: str) -> Path | None:
    """The file a ``sqlite:///…`` URL names (absolute), or None for memory / other engines."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).expanduser().resolve()


def describe(url: str) -> str:
    """The URL as a user should see it: the absolute file for SQLite, no password otherwise."""
    path = sqlite_path(url)
    if path is not None:
        return f"sqlite:///{path}"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def reason(error: Exception) -> str:
    """The first line of a driver's complaint (psycopg's messages run over several)."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def connectable(url: str, sqlalchemy_url: str) -> Engine:
    """An engine whose database answers (``serve``/``migrate`` may then create the schema)."""
    engine = make_engine(sqlalchemy_url)
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot open the database {describe(url)}: {reason(error)}"
        ) from None
    return engine


def existing(url: str, sqlalchemy_url: str) -> Engine:
    """An engine on a database that exists and has openissuing's schema; never creates one."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise DatabaseUnavailable(
            f"no database at {path} (from {url}); run this where `openissuing serve` keeps its "
            "database, or pass --database-url / OPENISSUING_DATABASE_URL"
        )
    engine = connectable(url, sqlalchemy_url)
    try:
        tables = set(inspect(engine).get_table_names())
    except OperationalError as error:
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot read the database {describe(url)}: {reason(error)}"
        ) from None
    if "alembic_version" not in tables or "objects" not in tables:
        engine.dispose()
        raise DatabaseUnavailable(
            f"{describe(url)} has no openissuing schema (run `openissuing migrate` or "
            "`openissuing serve` on it first)"
        )
    return engine
