"""Sandboxes: isolated platforms in one server, each with its own key, objects and clock.

A request is authenticated by resolving its secret key to a sandbox; the
sandbox gives the request its platform account (``Scope.platform``) and its
clock. Nothing else changes: every read is already scoped by owning account,
and a sandbox's accounts are owned by its platform account, so no request of
one sandbox can reach another's objects.

Keys are resolved through a small in-process cache (``Directory``): the hot
path pays one dict lookup. A change made through this process (clock, reset,
delete) is seen at once; one made by another process sharing the database is
seen within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from openissuing import ids
from openissuing.clock import Clock, SandboxClock
from openissuing.domain.connect.accounts import platform_account_record
from openissuing.domain.errors import InvalidRequest, PermissionDenied, ResourceMissing
from openissuing.domain.sandboxes import ClockState, Sandbox, check_name
from openissuing.secrets_box import SecretBox
from openissuing.services import deliveries, due
from openissuing.services.scope import Scope
from openissuing.storage.sandboxes import SandboxStore
from openissuing.storage.uow import UnitOfWork, transaction
from openissuing.wire import registry

CACHE_SECONDS = 1.0
CURRENT = "current"


def _store(uow: UnitOfWork) -> SandboxStore:
    return SandboxStore(uow.conn)


def new_api_key() -> str:
    return ids.new_secret("sk_test_", 40)


def _new_platform(uow: UnitOfWork, now: int) -> str:
    account_id = registry.id_for("account")
    uow.docs.insert("account", account_id, platform_account_record(account_id, now))
    return account_id


def ensure_default(uow: UnitOfWork, platform_account_id: str, api_key: str, now: int) -> Sandbox:
    """The sandbox ``serve`` prints: the server's first platform, keyed by the current key."""
    store = _store(uow)
    found = store.default()
    if found is None:
        found = Sandbox(
            ids.new_id("sbx"), "default", platform_account_id, api_key, True, ClockState(), now
        )
        store.insert(found)
    elif found.api_key != api_key:
        taken = store.by_key(api_key)
        if taken is not None:
            raise ValueError(f"the key given is already sandbox {taken.id}'s; choose another")
        store.set_key(found.id, api_key)
        found = replace(found, api_key=api_key)
    return found


def create(uow: UnitOfWork, name: str | None, now: int) -> Sandbox:
    sandbox = Sandbox(
        ids.new_id("sbx"),
        check_name(name),
        _new_platform(uow, now),
        new_api_key(),
        False,
        ClockState(),
        now,
    )
    _store(uow).insert(sandbox)
    return sandbox


def list_visible(uow: UnitOfWork, caller: Sandbox) -> list[Sandbox]:
    """The default sandbox's key sees every sandbox; any other key sees only its own."""
    return _store(uow).all() if caller.is_default else [caller]


def load(uow: UnitOfWork, caller: Sandbox, sandbox_id: str) -> Sandbox:
    if sandbox_id == CURRENT:
        sandbox_id = caller.id
    found = _store(uow).get(sandbox_id)
    if found is None or not (caller.is_default or found.id == caller.id):
        raise ResourceMissing("sandbox", sandbox_id, param="sandbox")
    return found


def of_account(uow: UnitOfWork, account_id: str) -> Sandbox | None:
    """The sandbox an account lives in: its platform account, or the platform owning it."""
    store = _store(uow)
    return store.by_platform(account_id) or store.by_platform(store.platform_of(account_id) or "")


def reread(uow: UnitOfWork, sandbox: Sandbox) -> Sandbox:
    """The sandbox as stored now (after its faults changed, say), for the key cache."""
    return _store(uow).get(sandbox.id) or sandbox


def require_admin(caller: Sandbox) -> None:
    if not caller.is_default:
        raise PermissionDenied(
            "Only the default sandbox's secret key can create sandboxes.",
            code="secret_key_required",
        )


def reset(uow: UnitOfWork, sandbox: Sandbox, now: int) -> Sandbox:
    """Wipe every object, keep the key and id; the clock starts again from the server's time."""
    store = _store(uow)
    owners = store.owners_of(sandbox.platform_account_id)
    platform = _new_platform(uow, now)
    store.set_platform(sandbox.id, platform)
    store.set_clock(sandbox.id, ClockState())
    store.wipe(owners)
    return replace(sandbox, platform_account_id=platform, clock=ClockState())


def delete(uow: UnitOfWork, sandbox: Sandbox) -> None:
    if sandbox.is_default:
        raise InvalidRequest(
            "The default sandbox cannot be deleted (reset it instead).", param="sandbox"
        )
    store = _store(uow)
    store.wipe(store.owners_of(sandbox.platform_account_id))
    store.delete(sandbox.id)


def move_clock(
    uow: UnitOfWork,
    sandbox: Sandbox,
    change: Callable[[ClockState, int], ClockState],
    real_now: int,
    box: SecretBox,
    base: Clock,
) -> Sandbox:
    """Store the sandbox's new clock, then apply what fell due by it, in this transaction.

    Pending webhook retries of the sandbox's events come as much closer as the clock moved:
    a retry due in an hour is sent at once after ``advance=1h``.
    """
    clock = change(sandbox.clock, real_now)
    _store(uow).set_clock(sandbox.id, clock)
    moved = replace(sandbox, clock=clock)
    ahead = clock.now(real_now) - sandbox.clock.now(real_now)
    if ahead > 0:
        owners = _store(uow).owners_of(sandbox.platform_account_id)
        deliveries.pull_forward(uow, owners, ahead)
    apply_due(uow, moved, box, base)
    return moved


def apply_due(uow: UnitOfWork, sandbox: Sandbox, box: SecretBox, base: Clock) -> None:
    """Every account of the sandbox, in id order: apply what the clock says is due (overdue
    holds released, disputes past their deadline expired), emitting their events."""
    clock = clock_of(sandbox, base)
    for owner in _store(uow).owners_of(sandbox.platform_account_id):
        scope = Scope(owner, sandbox.platform_account_id, clock, box)
        due.apply(uow, scope)


def clock_of(sandbox: Sandbox, base: Clock) -> SandboxClock:
    return SandboxClock(base, sandbox.clock.offset_seconds, sandbox.clock.frozen_at)


class Directory:
    """Secret key → sandbox, cached briefly in-process (the API's hot path reads it)."""

    def __init__(self, engine, base_clock: Clock) -> None:
        self.engine = engine
        self.base_clock = base_clock
        self._lock = threading.Lock()
        self._by_key: dict[str, tuple[float, Sandbox]] = {}

    def peek(self, api_key: str) -> Sandbox | None:
        """The cached sandbox if it is fresh (no database): the request path's fast answer."""
        cached = self._by_key.get(api_key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        return None

    def resolve(self, api_key: str) -> Sandbox | None:
        """The key's sandbox, read from the database when the cache has none (blocking)."""
        cached = self.peek(api_key)
        if cached is not None:
            return cached
        now = time.monotonic()
        found = transaction(self.engine, lambda uow: _store(uow).by_key(api_key), write=False)
        with self._lock:
            if found is None:
                self._by_key.pop(api_key, None)
            else:
                self._by_key[api_key] = (now, found)
        return found

    def remember(self, sandbox: Sandbox) -> None:
        with self._lock:
            for key, (_, cached) in list(self._by_key.items()):
                if cached.id == sandbox.id:
                    del self._by_key[key]
            self._by_key[sandbox.api_key] = (time.monotonic(), sandbox)

    def forget(self, sandbox: Sandbox) -> None:
        with self._lock:
            for key, (_, cached) in list(self._by_key.items()):
                if cached.id == sandbox.id:
                    del self._by_key[key]

    def clock(self, sandbox: Sandbox) -> SandboxClock:
        return clock_of(sandbox, self.base_clock)

    def of_platform(self, platform_account_id: str) -> Sandbox | None:
        """The sandbox of a platform account, read from the database (blocking; not cached:
        only the rare ephemeral-key request asks)."""
        return transaction(
            self.engine,
            lambda uow: _store(uow).by_platform(platform_account_id),
            write=False,
        )
