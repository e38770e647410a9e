"""The repository of Stripe objects: one JSON document per object, scoped by owner.

Every read takes the owning account, so one account can never load another's
object by id: a foreign id is simply "not found".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from openissuing.domain.errors import ResourceMissing
from openissuing.storage.raw import Raw, placeholders, values_rows
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
_INSERT_OBJECTS = "INSERT INTO objects (id, type, owner, created, data) VALUES "
_INSERT_KEYS = "INSERT INTO object_keys (object_id, name, value) VALUES "
_UPDATE_SQL = "UPDATE objects SET data = ? WHERE id = ?"
# Rows per multi-row INSERT: well under every engine's limit of bound parameters.
_CHUNK = 200


def _dumps(record: Record) -> str:
    # orjson: every state change writes several documents; stdlib json was a visible share of an
    # authorization.
    return orjson.dumps(record).decode()


def _chunks(rows: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


class Documents:
    """The repository, with a unit of work's identity map and write buffer.

    **Identity map.** Every document this transaction read, inserted or updated is kept (as
    its JSON text: each ``get`` returns a fresh dict, as a read would), so reading it again —
    rendering an authorization reads its card and cardholder, which the decision already
    loaded — costs no statement. A ``for_update`` read goes to the database unless this
    transaction already holds the row (read ``for_update`` or inserted it here), so row locks
    are taken exactly as before. Statements written elsewhere that change ``objects``
    (an UPDATE or DELETE naming it) empty the map.

    **Write buffer.** Inserts and updates are kept in memory and written as multi-row
    statements (one INSERT into ``objects``, one into ``object_keys``, the updates) just
    before any statement that could see them (``storage.raw``: everything that does not
    declare itself independent of documents) and at commit (``flush``). An update of a
    document inserted and not yet written only changes the row to insert. Writes of other
    tables that nothing reads back first (``Raw.defer``) follow them, in order.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.raw = Raw(conn)
        # SQLite serialises writers with BEGIN IMMEDIATE; FOR UPDATE is PostgreSQL's tool.
        self._row_locks = conn.dialect.name != "sqlite"
        # Bumped by every write: a rendering remembered at one count is still true at the same.
        self.writes = 0
        # id → (type, owner, JSON text or None once deleted, row lock held by this transaction)
        self._known: dict[str, tuple[str, str, str | None, bool]] = {}
        # The write buffer: rows to insert (by id, in order), updates, key rows to write and
        # the ids whose keys are replaced.
        self._inserts: dict[str, list[Any]] = {}
        self._updates: dict[str, str] = {}
        self._keys: dict[str, list[tuple[str, str, str]]] = {}
        self._replaced: set[str] = set()
        self._deferred: list[tuple[str, Sequence[Any]]] = []
        # Reads of documents by type answered once per transaction (``read_of_type``).
        self._typed_reads: dict[tuple[str, str, tuple[Any, ...]], list[tuple[Any, ...]]] = {}
        self._flushing = False

    # ---------------------------------------------------------------- reads

    def get(
        self, object_type: str, object_id: str, owner: str, *, for_update: bool = False
    ) -> Record | None:
        known = self._known.get(object_id)
        locking = for_update and self._row_locks
        if known is not None and (known[3] or not locking):
            if known[0] != object_type or known[1] != owner or known[2] is None:
                return None
            loaded: Record = orjson.loads(known[2])
            return loaded
        sql = _GET_SQL + (" FOR UPDATE" if locking else "")
        row = self.raw.one(sql, (object_id, object_type, owner))
        if row is None:
            return None
        data = row[0]
        self._known[object_id] = (object_type, owner, data, locking)
        found: Record = orjson.loads(data)
        return found

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
        known = self._known.get(object_id)
        if known is not None:
            return None if known[2] is None else (known[0], known[1])
        row = self.raw.one("SELECT type, owner FROM objects WHERE id = ?", (object_id,))
        return None if row is None else (row[0], row[1])

    def read_of_type(
        self, object_type: str, sql: str, params: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """Rows of a read over documents of ``object_type`` only, answered once per
        transaction until a document of that type is written (the webhook endpoints an
        authorization's real-time check and its event's fan-out both look up)."""
        key = (object_type, sql, tuple(params))
        rows = self._typed_reads.get(key)
        if rows is None:
            rows = self._typed_reads[key] = self.raw.all(sql, params)
        return rows

    # ---------------------------------------------------------------- writes

    def insert(
        self,
        object_type: str,
        owner: str,
        record: Record,
        keys: Mapping[str, str | None] | None = None,
    ) -> None:
        self.writes += 1
        object_id = record["id"]
        data = _dumps(record)
        if object_id in self._inserts or object_id in self._known:
            # The same id twice in one transaction: let the database refuse it, as it would.
            self.flush()
            self._inserts[object_id] = [object_id, object_type, owner, record["created"], data]
            self.flush()
        else:
            self._inserts[object_id] = [object_id, object_type, owner, record["created"], data]
        self._known[object_id] = (object_type, owner, data, True)
        self._typed(object_type)
        rows = _key_rows(object_id, keys or {})
        if rows:
            self._keys[object_id] = rows

    def update(self, record: Record, keys: Mapping[str, str | None] | None = None) -> None:
        self.writes += 1
        object_id = record["id"]
        data = _dumps(record)
        pending = self._inserts.get(object_id)
        known = self._known.get(object_id)
        if pending is not None:
            pending[4] = data
        else:
            self._updates[object_id] = data
            if keys is not None:
                self._replaced.add(object_id)
        if known is not None:
            self._known[object_id] = (known[0], known[1], data, known[3])
            self._typed(known[0])
        else:
            self._typed_reads.clear()  # a document of unknown type changed
        if keys is not None:
            self._keys[object_id] = _key_rows(object_id, keys)

    def delete(self, object_id: str) -> None:
        self.writes += 1
        self.flush()
        self.conn.execute(delete(object_keys).where(object_keys.c.object_id == object_id))
        self.conn.execute(delete(objects).where(objects.c.id == object_id))
        self.forget()

    def forget(self) -> None:
        """Drop the identity map (documents were changed behind the repository's back)."""
        self._known.clear()
        self._typed_reads.clear()

    def _typed(self, object_type: str) -> None:
        if self._typed_reads:
            for key in [k for k in self._typed_reads if k[0] == object_type]:
                del self._typed_reads[key]

    def before(self, sql: str) -> None:
        """A statement is about to run on this connection (``storage.raw``): write the buffer
        first, and forget what another writer of ``objects`` may have changed."""
        if self._flushing:
            return
        self.flush()
        head = sql.lstrip()[:6].upper()
        if head in ("UPDATE", "DELETE") and "objects" in sql:
            self.forget()

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """A write of another table sent with the next flush (``storage.raw.Raw.defer``)."""
        self._deferred.append((sql, params))

    def flush(self) -> None:
        """Write the buffered inserts, updates and keys (multi-row statements), then the
        deferred writes."""
        if not (self._inserts or self._updates or self._keys or self._deferred):
            return
        self._flushing = True
        try:
            if self.raw.postgres:
                # One round trip for all of them: psycopg's pipeline mode sends the statements
                # back to back and reads the answers at the end.
                with self.raw.dbapi.pipeline():
                    self._write_buffer()
            else:
                self._write_buffer()
        finally:
            self._flushing = False

    def _write_buffer(self) -> None:
        inserts, updates, keys, replaced = self._inserts, self._updates, self._keys, self._replaced
        deferred = self._deferred
        self._inserts, self._updates, self._keys, self._replaced = {}, {}, {}, set()
        self._deferred = []
        raw = self.raw
        for chunk in _chunks(list(inserts.values())):
            raw.execute(
                _INSERT_OBJECTS + values_rows(5, len(chunk)),
                [value for row in chunk for value in row],
                independent=True,
            ).close()
        if updates:
            raw.executemany(
                _UPDATE_SQL,
                [(data, object_id) for object_id, data in updates.items()],
                independent=True,
            )
        gone = sorted(replaced)
        for chunk in _chunks(gone):
            raw.execute(
                f"DELETE FROM object_keys WHERE object_id IN ({placeholders(len(chunk))})",
                chunk,
                independent=True,
            ).close()
        rows = [row for object_rows in keys.values() for row in object_rows]
        for chunk in _chunks(rows):
            raw.execute(
                _INSERT_KEYS + values_rows(3, len(chunk)),
                [value for row in chunk for value in row],
                independent=True,
            ).close()
        for sql, params in deferred:
            raw.execute(sql, params, independent=True).close()

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


def _key_rows(object_id: str, keys: Mapping[str, str | None]) -> list[tuple[str, str, str]]:
    return [
        (object_id, name, str(value)[:255])
        for name, value in dict(keys).items()
        if value is not None
    ]
