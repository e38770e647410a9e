"""The in-process *doorbell* of the webhook outbox.

Dispatchers (``openissuing.webhooks.dispatcher``) poll the database, which
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
