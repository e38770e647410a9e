"""The repository of Stripe objects: one JSON document per object, scoped by owner.

Every read takes the owning account, so one account can never load another's
object by id: a foreign id is simply "not found".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from openissuing.domain.errors import ResourceMissing
from openissuing.storage.raw import Raw
from openissuing.storage.tables import object_keys, objects

Record = dict[str, Any]


@dataclass(frozen=True)
class CreatedRange:
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


@dataclass(frozen=True)
class Page:
    records: list[Record]
    has_more: bool


# The per-object statements go through the raw cursor (see storage/raw.py: the
# hot path is many tiny statements); lists keep SQLAlchemy's composability.
_GET_SQL = "SELECT data FROM objects WHERE id = ? AND type = ? AND owner = ?"


def _dumps(record: Record) -> str:
    # orjson: every state change writes several documents; stdlib json was a visible share of an
    # authorization.
    return orjson.dumps(record).decode()


class Documents:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.raw = Raw(conn)
        # SQLite serialises writers with BEGIN IMMEDIATE; FOR UPDATE is PostgreSQL's tool.
        self._row_locks = conn.dialect.name != "sqlite"
        # Bumped by every write: a rendering remembered at one count is still true at the same.
        self.writes = 0

    def get(
        self, object_type: str, object_id: str, owner: str, *, for_update: bool = False
    ) -> Record | None:
        sql = _GET_SQL + (" FOR UPDATE" if for_update and self._row_locks else "")
        row = self.raw.one(sql, (object_id, object_type, owner))
        return None if row is None else orjson.loads(row[0])

    def require(
        self,
        object_type: str,
        object_id: str,
        owner: str,
        *,
        param: str = "id",
        for_update: bool = False,
    ) -> Record:
        """The object, or Stripe's 404 naming ``param``: the one loader every resource uses."""
        record = self.get(object_type, object_id, owner, for_update=for_update)
        if record is None:
            raise ResourceMissing(object_type, object_id, param=param)
        return record

    def owner_of(self, object_id: str) -> tuple[str, str] | None:
        """(type, owner) of any object: for internal routing, never for authorising reads."""
        row = self.raw.one("SELECT type, owner FROM objects WHERE id = ?", (object_id,))
        return None if row is None else (row[0], row[1])

    def insert(
        self,
        object_type: str,
        owner: str,
        record: Record,
        keys: Mapping[str, str | None] | None = None,
    ) -> None:
        self.writes += 1
        self.raw.execute(
            "INSERT INTO objects (id, type, owner, created, data) VALUES (?, ?, ?, ?, ?)",
            (record["id"], object_type, owner, record["created"], _dumps(record)),
        ).close()
        self._write_keys(record["id"], keys or {}, replace=False)

    def update(self, record: Record, keys: Mapping[str, str | None] | None = None) -> None:
        self.writes += 1
        self.raw.execute(
            "UPDATE objects SET data = ? WHERE id = ?", (_dumps(record), record["id"])
        ).close()
        if keys is not None:
            self._write_keys(record["id"], keys, replace=True)

    def delete(self, object_id: str) -> None:
        self.writes += 1
        self.conn.execute(delete(object_keys).where(object_keys.c.object_id == object_id))
        self.conn.execute(delete(objects).where(objects.c.id == object_id))

    def _write_keys(self, object_id: str, keys: Mapping[str, str | None], *, replace: bool) -> None:
        if replace:
            self.raw.execute("DELETE FROM object_keys WHERE object_id = ?", (object_id,)).close()
        rows = [
            (object_id, name, str(value)[:255])
            for name, value in dict(keys).items()
            if value is not None
        ]
        if rows:
            self.raw.executemany(
                "INSERT INTO object_keys (object_id, name, value) VALUES (?, ?, ?)", rows
            )

    def find(self, object_type: str, owner: str, key: str, value: str) -> list[Record]:
        """All of an owner's objects of a type whose filter key equals value."""
        return self.list(object_type, owner, filters={key: value}, limit=None).records

    def list(
        self,
        object_type: str,
        owner: str | None,
        *,
        filters: Mapping[str, str] | None = None,
        created: CreatedRange | None = None,
        limit: int | None = 10,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> Page:
        """Newest first. Ids sort by creation, so the cursor is a plain id comparison."""
        conditions = [objects.c.type == object_type]
        if owner is not None:
            conditions.append(objects.c.owner == owner)
        for name, value in (filters or {}).items():
            keyed = select(object_keys.c.object_id).where(
                object_keys.c.name == name, object_keys.c.value == str(value)
            )
            conditions.append(objects.c.id.in_(keyed))
        conditions.extend(_created_conditions(created))
        require_cursors(self.conn, object_type, owner, starting_after, ending_before)
        if starting_after is not None:
            conditions.append(objects.c.id < starting_after)
        if ending_before is not None:
            conditions.append(objects.c.id > ending_before)
        # Paging backwards reads upwards from the cursor, then flips to newest-first.
        order = objects.c.id.asc() if ending_before is not None else objects.c.id.desc()
        query = select(objects.c.data).where(and_(*conditions)).order_by(order)
        if limit is not None:
            query = query.limit(limit + 1)
        rows = [orjson.loads(data) for data in self.conn.execute(query).scalars()]
        has_more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        if ending_before is not None:
            rows.reverse()
        return Page(rows, has_more)


def require_cursors(
    conn: Connection,
    object_type: str,
    owner: str | None,
    starting_after: str | None,
    ending_before: str | None,
) -> None:
    """A cursor must name an object of the listed type the acting account can see.

    Stripe answers an unknown, foreign or other-type cursor with ``resource_missing``
    naming the cursor's parameter, rather than a page cut at an arbitrary string.
    """
    for param, cursor in (("starting_after", starting_after), ("ending_before", ending_before)):
        if cursor is None:
            continue
        conditions = [objects.c.id == cursor, objects.c.type == object_type]
        if owner is not None:
            conditions.append(objects.c.owner == owner)
        if conn.execute(select(objects.c.id).where(and_(*conditions))).first() is None:
            raise ResourceMissing(object_type, cursor, param=param)


def _created_conditions(created: CreatedRange | None) -> Iterable[ColumnElement[bool]]:
    if created is None:
        return []
    column = objects.c.created
    pairs = [
        (created.gt, column.__gt__),
        (created.gte, column.__ge__),
        (created.lt, column.__lt__),
        (created.lte, column.__le__),
    ]
    return [op(value) for value, op in pairs if value is not None]
