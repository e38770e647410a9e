"""SQL for the Stripe balance: an account's balance ledger accounts, every currency at once.

The Issuing and payments balances are ledger accounts per (account, currency), found through
the unique ``(reference, kind, currency)`` index; ``/v1/balance`` reads them in one statement.
"""

from __future__ import annotations

from openissuing.domain.ledger import Totals
from openissuing.storage.raw import Raw, placeholders

_SQL = (
    "SELECT kind, currency, debits_pending, debits_posted, credits_pending, credits_posted "
    "FROM ledger_accounts WHERE reference = ? AND kind IN ({}) ORDER BY currency, kind"
)


def totals_of(raw: Raw, reference: str, kinds: tuple[str, ...]) -> list[tuple[str, str, Totals]]:
    """(kind, currency, totals) of ``reference``'s ledger accounts of ``kinds``."""
    rows = raw.all(_SQL.format(placeholders(len(kinds))), (reference, *kinds))
    return [(kind, currency, Totals(*(int(v) for v in totals))) for kind, currency, *totals in rows]
