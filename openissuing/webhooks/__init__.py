"""Webhook delivery: which endpoints hear which event (``matching``), how a
body is signed (``signer``), and the dispatcher that sends (``dispatcher``).

The outbox itself (delivery rows written in the event's own transaction, and
the claim / record steps) is ``openissuing.services.deliveries``.

This package's ``__init__`` stays import-light because the services import it:
it only holds the in-process *doorbell*. Dispatchers poll the database, which
is what makes several processes share one PostgreSQL; the doorbell merely wakes
the dispatchers living in this process as soon as a transaction that created
deliveries commits, so a local delivery does not wait for the next poll.
"""

from __future__ import annotations

import threading

_listeners: set[threading.Event] = set()
_lock = threading.Lock()


def listen(wake: threading.Event) -> None:
    with _lock:
        _listeners.add(wake)


def unlisten(wake: threading.Event) -> None:
    with _lock:
        _listeners.discard(wake)


def ring() -> None:
    """Wake every dispatcher in this process (called after a commit, never inside one)."""
    with _lock:
        listeners = list(_listeners)
    for wake in listeners:
        wake.set()
