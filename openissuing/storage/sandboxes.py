"""The sandboxes table, and wiping what a sandbox's accounts own.

Objects are owned by an account (the sandbox's platform account or one of its
connected accounts, whose own documents the platform owns); side tables hang
off objects with ON DELETE CASCADE, except the ones keyed by owner or card,
which are wiped here explicitly. The ledger is immutable by design (triggers
refuse DELETE): a wiped sandbox's ledger rows stay, balanced and unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from openissuing.domain.faults import Fault
from openissuing.domain.sandboxes import ClockState, Sandbox
from openissuing.storage.raw import Raw, placeholders

_COLUMNS = (
    "id, name, platform_account_id, api_key, is_default, clock_offset_seconds, "
    "clock_frozen_at, created"
)
_SELECT = (
    f"SELECT {_COLUMNS}, EXISTS (SELECT 1 FROM sandbox_faults f WHERE f.sandbox_id = s.id) "
    "FROM sandboxes s"
)
# Owners are deleted in chunks so no statement carries thousands of parameters.
_CHUNK = 200


def _sandbox(row: Sequence[Any]) -> Sandbox:
    return Sandbox(
        id=row[0],
        name=row[1],
        platform_account_id=row[2],
        api_key=row[3],
        is_default=bool(row[4]),
        clock=ClockState(int(row[5]), None if row[6] is None else int(row[6])),
        created=int(row[7]),
        has_faults=bool(row[8]) if len(row) > 8 else False,
    )


class SandboxStore:
    def __init__(self, conn: Connection) -> None:
        self.raw = Raw(conn)

    def by_key(self, api_key: str) -> Sandbox | None:
        row = self.raw.one(f"{_SELECT} WHERE s.api_key = ?", (api_key,))
        return None if row is None else _sandbox(row)

    def get(self, sandbox_id: str) -> Sandbox | None:
        row = self.raw.one(f"{_SELECT} WHERE s.id = ?", (sandbox_id,))
        return None if row is None else _sandbox(row)

    def by_platform(self, platform_account_id: str) -> Sandbox | None:
        row = self.raw.one(f"{_SELECT} WHERE s.platform_account_id = ?", (platform_account_id,))
        return None if row is None else _sandbox(row)

    def platform_of(self, account_id: str) -> str | None:
        """The owner of an account document: the platform of a connected account."""
        row = self.raw.one(
            "SELECT owner FROM objects WHERE id = ? AND type = 'account'", (account_id,)
        )
        return None if row is None else str(row[0])

    def default(self) -> Sandbox | None:
        row = self.raw.one(f"{_SELECT} WHERE s.is_default = 1")
        return None if row is None else _sandbox(row)

    def all(self) -> list[Sandbox]:
        rows = self.raw.all(f"{_SELECT} ORDER BY s.is_default DESC, s.id")
        return [_sandbox(row) for row in rows]

    def insert(self, sandbox: Sandbox) -> None:
        self.raw.execute(
            f"INSERT INTO sandboxes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sandbox.id,
                sandbox.name,
                sandbox.platform_account_id,
                sandbox.api_key,
                int(sandbox.is_default),
                sandbox.clock.offset_seconds,
                sandbox.clock.frozen_at,
                sandbox.created,
            ),
        ).close()

    def set_clock(self, sandbox_id: str, clock: ClockState) -> None:
        self.raw.execute(
            "UPDATE sandboxes SET clock_offset_seconds = ?, clock_frozen_at = ? WHERE id = ?",
            (clock.offset_seconds, clock.frozen_at, sandbox_id),
        ).close()

    def set_platform(self, sandbox_id: str, platform_account_id: str) -> None:
        self.raw.execute(
            "UPDATE sandboxes SET platform_account_id = ? WHERE id = ?",
            (platform_account_id, sandbox_id),
        ).close()

    def set_key(self, sandbox_id: str, api_key: str) -> None:
        self.raw.execute(
            "UPDATE sandboxes SET api_key = ? WHERE id = ?", (api_key, sandbox_id)
        ).close()

    def delete(self, sandbox_id: str) -> None:
        self.raw.execute("DELETE FROM sandboxes WHERE id = ?", (sandbox_id,)).close()

    def owners_of(self, platform_account_id: str) -> list[str]:
        """The platform account and every connected account it owns."""
        rows = self.raw.all(
            "SELECT id FROM objects WHERE type = 'account' AND owner = ?", (platform_account_id,)
        )
        return sorted({platform_account_id, *(row[0] for row in rows)})

    def wipe(self, owners: Sequence[str]) -> int:
        """Delete every object (and its side rows) those accounts own; returns objects deleted."""
        deleted = 0
        for start in range(0, len(owners), _CHUNK):
            chunk = tuple(owners[start : start + _CHUNK])
            marks = placeholders(len(chunk))
            self.raw.execute(
                f"DELETE FROM card_spend WHERE card_id IN (SELECT id FROM objects "
                f"WHERE type = 'issuing.card' AND owner IN ({marks}))",
                chunk,
            ).close()
            for sql in (
                f"DELETE FROM authorization_expiries WHERE owner IN ({marks})",
                f"DELETE FROM idempotency_keys WHERE scope IN ({marks})",
            ):
                self.raw.execute(sql, chunk).close()
            # Side tables keyed by object id cascade (object_keys, secrets, deliveries).
            cursor = self.raw.execute(f"DELETE FROM objects WHERE owner IN ({marks})", chunk)
            deleted += max(cursor.rowcount, 0)
            cursor.close()
        return deleted


_FAULT_COLUMNS = (
    "id, sandbox_id, kind, method, path, remaining, seconds, expires_at, created, event_type, "
    "outcome"
)


def _fault(row: Sequence[Any]) -> Fault:
    return Fault(
        id=row[0],
        sandbox_id=row[1],
        kind=row[2],
        method=row[3],
        path=row[4],
        remaining=None if row[5] is None else int(row[5]),
        seconds=int(row[6]),
        expires_at=None if row[7] is None else int(row[7]),
        created=int(row[8]),
        event_type=row[9],
        outcome=row[10],
    )


class FaultStore:
    def __init__(self, conn: Connection) -> None:
        self.raw = Raw(conn)
        self._row_locks = conn.dialect.name != "sqlite"

    def add(self, fault: Fault) -> None:
        self.raw.execute(
            f"INSERT INTO sandbox_faults ({_FAULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?)",
            (
                fault.id,
                fault.sandbox_id,
                fault.kind,
                fault.method,
                fault.path,
                fault.remaining,
                fault.seconds,
                fault.expires_at,
                fault.created,
                fault.event_type,
                fault.outcome,
            ),
        ).close()

    def of(self, sandbox_id: str, *, for_update: bool = False) -> list[Fault]:
        lock = " FOR UPDATE" if for_update and self._row_locks else ""
        rows = self.raw.all(
            f"SELECT {_FAULT_COLUMNS} FROM sandbox_faults WHERE sandbox_id = ? ORDER BY id{lock}",
            (sandbox_id,),
        )
        return [_fault(row) for row in rows]

    def remove(self, sandbox_id: str, fault_id: str) -> bool:
        cursor = self.raw.execute(
            "DELETE FROM sandbox_faults WHERE sandbox_id = ? AND id = ?", (sandbox_id, fault_id)
        )
        gone = bool(cursor.rowcount > 0)
        cursor.close()
        return gone

    def clear(self, sandbox_id: str) -> None:
        self.raw.execute("DELETE FROM sandbox_faults WHERE sandbox_id = ?", (sandbox_id,)).close()

    def use(self, fault: Fault) -> None:
        """One matching request used the fault: count it down (gone at zero)."""
        if fault.remaining is None:
            return
        if fault.remaining <= 1:
            self.raw.execute("DELETE FROM sandbox_faults WHERE id = ?", (fault.id,)).close()
        else:
            self.raw.execute(
                "UPDATE sandbox_faults SET remaining = remaining - 1 WHERE id = ?", (fault.id,)
            ).close()

    def drop_expired(self, sandbox_id: str, now: int) -> None:
        self.raw.execute(
            "DELETE FROM sandbox_faults WHERE sandbox_id = ? AND expires_at IS NOT NULL "
            "AND expires_at <= ?",
            (sandbox_id, now),
        ).close()

    def use_once(self, fault: Fault) -> bool:
        """Use a fault once if it is still set (counted down, gone at zero); False if gone."""
        if fault.remaining is None:
            row = self.raw.one("SELECT 1 FROM sandbox_faults WHERE id = ?", (fault.id,))
            return row is not None
        cursor = self.raw.execute(
            "UPDATE sandbox_faults SET remaining = remaining - 1 WHERE id = ? AND remaining > 1",
            (fault.id,),
        )
        counted = cursor.rowcount > 0
        cursor.close()
        if counted:
            return True
        cursor = self.raw.execute(
            "DELETE FROM sandbox_faults WHERE id = ? AND remaining = 1", (fault.id,)
        )
        last = cursor.rowcount > 0
        cursor.close()
        return bool(last)
