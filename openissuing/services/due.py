"""Apply what is due: the time-driven transitions, run before every request of an account.

Expiry is applied lazily rather than by a background job: before anything reads the acting
account's state, overdue authorizations release their holds and unsubmitted disputes past
their deadline expire, so a balance never shows an overdue hold and tests need no sleep (the
injected clock decides). When nothing is due this is one indexed read.
"""

from __future__ import annotations

from openissuing.services import authorizations, disputes
from openissuing.services.scope import Scope
from openissuing.storage import due as due_store
from openissuing.storage.uow import UnitOfWork


def apply(uow: UnitOfWork, scope: Scope) -> None:
    authorizations_due, disputes_open = due_store.pending_kinds(
        uow.docs.raw, scope.account, scope.now()
    )
    if authorizations_due:
        authorizations.expire_due(uow, scope)
    if disputes_open:
        disputes.expire_due(uow, scope)
