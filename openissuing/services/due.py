"""Apply what is due: the time-driven transitions, run before every request of an account.

Expiry is applied lazily rather than by a background job: before anything reads the acting
account's state, overdue authorizations release their holds, unsubmitted disputes past
their deadline expire and pending top-ups settle, so a read never shows an overdue state
and tests need no sleep (the injected clock decides). Finding out is one indexed statement
(``storage.due``); the resource's own rule runs only when it has something to do.
"""

from __future__ import annotations

from openissuing.domain.issuing import disputes as dispute_rules
from openissuing.services import authorizations, disputes, topups
from openissuing.services.scope import Scope
from openissuing.storage import due as due_store
from openissuing.storage.uow import UnitOfWork


def apply(uow: UnitOfWork, scope: Scope) -> None:
    now = scope.now()
    due = due_store.pending(uow.docs.raw, scope.account, now)
    if due.topups:  # first: money a top-up brings in is there before anything spends it
        topups.settle_due(uow, scope, due.topups)
    if due.authorization:
        authorizations.expire_due(uow, scope)
    if any(dispute_rules.is_past_deadline(record, now) for record in due.disputes):
        disputes.expire_due(uow, scope)
