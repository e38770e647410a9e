"""Apply what is due: the time-driven transitions, run before every request of an account.

Expiry is applied lazily rather than by a background job: before anything reads the acting
account's state, overdue authorizations release their holds and unsubmitted disputes past
their deadline expire, so a read never shows an overdue state and tests need no sleep (the
injected clock decides). Finding out is one indexed statement (``storage.due``); the
resource's own rule runs only when it has something to do.
"""

from __future__ import annotations

from openissuing.domain.issuing import disputes as dispute_rules
from openissuing.services import authorizations, disputes
from openissuing.services.scope import Scope
from openissuing.storage import due as due_store
from openissuing.storage.uow import UnitOfWork


def apply(uow: UnitOfWork, scope: Scope) -> None:
    now = scope.now()
    authorization_due, open_disputes = due_store.pending(uow.docs.raw, scope.account, now)
    if authorization_due:
        authorizations.expire_due(uow, scope)
    if any(dispute_rules.is_past_deadline(record, now) for record in open_disputes):
        disputes.expire_due(uow, scope)
