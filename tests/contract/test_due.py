"""What is due is applied before every request of the account, whatever the endpoint.

``services.due.apply`` runs in the pipeline before the handler: overdue authorizations release
their holds and unsubmitted disputes past their deadline expire, read straight from storage
here so the check itself cannot trigger the expiry.
"""

from __future__ import annotations

from openissuing.storage.uow import transaction
from tests.contract.test_disputes import Books

DAY = 86400


def _stored(server, object_type: str, object_id: str, owner: str) -> dict:
    return transaction(
        server.runtime.engine,
        lambda uow: uow.docs.get(object_type, object_id, owner),
        write=False,
    )


def test_any_request_applies_dispute_and_authorization_expiries(client, server):
    b = Books(client, server)
    dispute = b.dispute(b.purchase(1_000).id)
    held = client.v1.test_helpers.issuing.authorizations.create(
        params={"card": b.card, "amount": 700}, options=b.o
    )
    server.clock.advance(8 * DAY)  # past the hold's 7 days, well inside the dispute's 110
    client.v1.issuing.cardholders.list(options=b.o)  # an unrelated read
    assert _stored(server, "issuing.authorization", held.id, b.acct)["status"] == "expired"
    assert _stored(server, "issuing.dispute", dispute.id, b.acct)["status"] == "unsubmitted"

    server.clock.advance(103 * DAY)  # past the dispute's deadline
    assert _stored(server, "issuing.dispute", dispute.id, b.acct)["status"] == "unsubmitted"
    client.v1.treasury.financial_accounts.retrieve(b.fa, options=b.o)  # not a dispute call
    assert _stored(server, "issuing.dispute", dispute.id, b.acct)["status"] == "expired"
    b.check_cash(10_000 - 1_000)
    b.audit_clean()
