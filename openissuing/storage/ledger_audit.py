"""The ledger's verification queries: the database's own answer to "do the books balance?".

Run by ``openissuing check-ledger`` and after test suites. Each check returns
human-readable discrepancies; an empty list means the ledger is sound.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Per account: the stored running totals against totals recomputed from transfers.
_RECOMPUTE = """
WITH resolved AS (SELECT pending_id FROM ledger_transfers WHERE pending_id IS NOT NULL),
open_pending AS (
    SELECT * FROM ledger_transfers
    WHERE kind = 'pending' AND id NOT IN (SELECT pending_id FROM resolved)
)
SELECT a.id,
       a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted,
       COALESCE((SELECT SUM(amount) FROM open_pending t WHERE t.debit_account_id = a.id), 0),
       COALESCE((SELECT SUM(amount) FROM ledger_transfers t
                 WHERE t.debit_account_id = a.id AND t.kind IN ('posted', 'post_pending')), 0),
       COALESCE((SELECT SUM(amount) FROM open_pending t WHERE t.credit_account_id = a.id), 0),
       COALESCE((SELECT SUM(amount) FROM ledger_transfers t
                 WHERE t.credit_account_id = a.id AND t.kind IN ('posted', 'post_pending')), 0)
FROM ledger_accounts a
"""

_PER_CURRENCY = """
SELECT currency, SUM(debits_pending), SUM(credits_pending), SUM(debits_posted), SUM(credits_posted)
FROM ledger_accounts GROUP BY currency
"""

_CURRENCY_MISMATCH = """
SELECT t.id FROM ledger_transfers t
JOIN ledger_accounts d ON d.id = t.debit_account_id
JOIN ledger_accounts c ON c.id = t.credit_account_id
WHERE t.currency <> d.currency OR t.currency <> c.currency
"""

_BAD_RESOLUTION = """
SELECT r.id FROM ledger_transfers r JOIN ledger_transfers p ON p.id = r.pending_id
WHERE p.kind <> 'pending'
   OR r.debit_account_id <> p.debit_account_id OR r.credit_account_id <> p.credit_account_id
   OR (r.kind = 'post_pending' AND r.amount > p.amount)
"""


def audit(conn: Connection) -> list[str]:
    problems: list[str] = []
    names = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
    for row in conn.execute(text(_RECOMPUTE)):
        stored, recomputed = row[1:5], row[5:9]
        for name, have, want in zip(names, stored, recomputed):
            if int(have) != int(want):
                problems.append(
                    f"account {row[0]}: stored {name}={have} but its transfers sum to {want}"
                )
    for currency, dp, cp, dpo, cpo in conn.execute(text(_PER_CURRENCY)):
        if int(dp) != int(cp):
            problems.append(f"{currency}: pending debits {dp} != pending credits {cp}")
        if int(dpo) != int(cpo):
            problems.append(f"{currency}: posted debits {dpo} != posted credits {cpo}")
    for (transfer_id,) in conn.execute(text(_CURRENCY_MISMATCH)):
        problems.append(f"transfer {transfer_id}: currency differs from its accounts'")
    for (transfer_id,) in conn.execute(text(_BAD_RESOLUTION)):
        problems.append(f"transfer {transfer_id}: resolves a pending transfer it does not match")
    return problems
