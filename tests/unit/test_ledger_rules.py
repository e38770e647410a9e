"""Pure ledger rules (openissuing.domain.ledger): check precedence, effects, impacts.

A tiny in-memory executor applies batches the way ``services.ledger.execute``
does (validate every transfer against the state the earlier ones leave, then
commit all or nothing), so a hypothesis test can check the ledger's invariants
without a database; the last test runs ``execute`` itself on in-memory SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from openissuing.domain import ledger
from openissuing.domain.ledger import Account, Impact, Kind, Result, Totals, Transfer
from openissuing.services import ledger as service
from openissuing.storage import tables
from openissuing.storage.ledger_audit import audit
from openissuing.storage.uow import UnitOfWork

FA = Account("la_fa", "usd", Totals(credits_posted=10_000))
NET = Account("la_net", "usd")
EUR = Account("la_eur", "eur")


def _t(
    id: str = "t1",
    amount: int = 1_000,
    kind: Kind = Kind.POSTED,
    debit: str = "la_fa",
    credit: str = "la_net",
    currency: str = "usd",
    pending_id: str | None = None,
    require_available: bool = False,
) -> Transfer:
    return Transfer(
        id,
        debit,
        credit,
        amount,
        currency,
        kind,
        pending_id=pending_id,
        flow="flow_1",
        require_available=require_available,
    )


def _check(
    transfer: Transfer,
    debit: Account = FA,
    credit: Account = NET,
    existing: Transfer | None = None,
    pending: Transfer | None = None,
    resolved: bool = False,
) -> Result:
    return ledger.check(transfer, debit, credit, existing, pending, resolved)


HOLD = _t("hold", 4_000, Kind.PENDING)


# -- check: each result, and which wins when several apply -------------------------------


def test_a_plain_transfer_is_ok():
    assert _check(_t()) is Result.OK


def test_replay_with_same_fields_is_exists_even_if_otherwise_invalid():
    transfer = _t(amount=0)
    assert _check(transfer, existing=transfer) is Result.EXISTS
    # require_available is a condition of the request, not a field of the transfer.
    assert _check(_t(require_available=True), existing=_t()) is Result.EXISTS


def test_replay_with_different_fields_is_its_own_result():
    assert _check(_t(amount=999), existing=_t()) is Result.EXISTS_WITH_DIFFERENT_FIELDS
    assert _check(_t(kind=Kind.PENDING), existing=_t()) is Result.EXISTS_WITH_DIFFERENT_FIELDS


@pytest.mark.parametrize("amount", [0, -1])
def test_amount_must_be_positive(amount):
    assert _check(_t(amount=amount)) is Result.AMOUNT_MUST_BE_POSITIVE


def test_amount_check_comes_before_account_and_currency_checks():
    same_and_foreign = _t(amount=0, debit="la_fa", credit="la_fa", currency="eur")
    assert _check(same_and_foreign, credit=FA) is Result.AMOUNT_MUST_BE_POSITIVE


def test_accounts_must_be_different_before_currency():
    assert (
        _check(_t(credit="la_fa", currency="eur"), credit=FA) is Result.ACCOUNTS_MUST_BE_DIFFERENT
    )


def test_currency_must_match_both_accounts():
    assert _check(_t(currency="eur")) is Result.CURRENCY_MISMATCH
    assert _check(_t(credit="la_eur"), credit=EUR) is Result.CURRENCY_MISMATCH


def test_currency_mismatch_wins_over_resolution_problems():
    assert _check(_t(kind=Kind.VOID_PENDING, currency="eur")) is Result.CURRENCY_MISMATCH


@pytest.mark.parametrize("kind", [Kind.POST_PENDING, Kind.VOID_PENDING])
def test_resolution_precedence(kind):
    resolve = _t("r", 1_000, kind, pending_id="hold")
    assert _check(_t("r", 1_000, kind)) is Result.PENDING_ID_REQUIRED
    assert _check(resolve) is Result.PENDING_TRANSFER_NOT_FOUND
    assert _check(resolve, pending=_t("hold")) is Result.PENDING_TRANSFER_NOT_PENDING
    assert _check(resolve, pending=HOLD, resolved=True) is Result.PENDING_TRANSFER_ALREADY_RESOLVED
    swapped = _t("r", 1_000, kind, debit="la_net", credit="la_fa", pending_id="hold")
    assert (
        _check(swapped, debit=NET, credit=FA, pending=HOLD)
        is Result.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS
    )
    assert _check(resolve, pending=HOLD) is Result.OK


def test_posting_more_than_the_pending_amount_is_refused_but_voiding_is_not_limited():
    assert (
        _check(_t("r", 4_001, Kind.POST_PENDING, pending_id="hold"), pending=HOLD)
        is Result.EXCEEDS_PENDING_AMOUNT
    )
    assert _check(_t("r", 4_000, Kind.POST_PENDING, pending_id="hold"), pending=HOLD) is Result.OK
    assert _check(_t("r", 9_999, Kind.VOID_PENDING, pending_id="hold"), pending=HOLD) is Result.OK


def test_already_resolved_wins_over_exceeding_the_pending_amount():
    too_much = _t("r", 5_000, Kind.POST_PENDING, pending_id="hold")
    assert _check(too_much, pending=HOLD, resolved=True) is Result.PENDING_TRANSFER_ALREADY_RESOLVED


@pytest.mark.parametrize("kind", [Kind.POSTED, Kind.PENDING])
def test_exceeds_available_only_when_required(kind):
    held = Account(
        "la_fa", "usd", Totals(credits_posted=10_000, debits_posted=2_000, debits_pending=3_000)
    )
    assert held.totals.available == 5_000
    assert (
        _check(_t(amount=5_001, kind=kind, require_available=True), debit=held)
        is Result.EXCEEDS_AVAILABLE
    )
    assert _check(_t(amount=5_000, kind=kind, require_available=True), debit=held) is Result.OK
    assert _check(_t(amount=5_001, kind=kind), debit=held) is Result.OK


def test_resolutions_never_check_available():
    broke = Account("la_fa", "usd", Totals(debits_pending=4_000))
    post = _t("r", 4_000, Kind.POST_PENDING, pending_id="hold", require_available=True)
    assert _check(post, debit=broke, pending=HOLD) is Result.OK


def test_exceeds_available_is_the_last_check():
    broke = Account("la_fa", "usd", Totals())
    assert (
        _check(_t(currency="eur", require_available=True), debit=broke) is Result.CURRENCY_MISMATCH
    )


# -- effect ------------------------------------------------------------------------------


def test_effect_of_posted_and_pending():
    assert ledger.effect(_t(amount=700), None) == (
        Totals(debits_posted=700),
        Totals(credits_posted=700),
    )
    assert ledger.effect(_t(amount=700, kind=Kind.PENDING), None) == (
        Totals(debits_pending=700),
        Totals(credits_pending=700),
    )


def test_post_pending_partially_releases_the_whole_hold_and_posts_only_its_amount():
    debit, credit = ledger.effect(_t("r", 1_500, Kind.POST_PENDING, pending_id="hold"), HOLD)
    assert debit == Totals(debits_pending=-4_000, debits_posted=1_500)
    assert credit == Totals(credits_pending=-4_000, credits_posted=1_500)


def test_void_releases_the_held_amount_whatever_the_void_says():
    debit, credit = ledger.effect(_t("r", 1, Kind.VOID_PENDING, pending_id="hold"), HOLD)
    assert debit == Totals(debits_pending=-4_000) and credit == Totals(credits_pending=-4_000)


def test_add_and_available():
    total = ledger.add(Totals(1, 2, 3, 4), Totals(10, 20, 30, 40))
    assert total == Totals(11, 22, 33, 44)
    assert Totals(debits_pending=5, debits_posted=10, credits_posted=100).available == 85


# -- Treasury impact ---------------------------------------------------------------------


def test_balance_of_a_customer_account():
    balance = ledger.balance_of(
        Totals(debits_pending=300, debits_posted=200, credits_pending=50, credits_posted=1_000)
    )
    assert balance == Impact(cash=500, inbound_pending=50, outbound_pending=300)


def test_impact_on_the_financial_account_of_each_movement():
    assert ledger.impact_on("la_fa", _t(amount=900), None) == Impact(cash=-900)
    assert ledger.impact_on(
        "la_fa", _t(amount=900, debit="la_net", credit="la_fa"), None
    ) == Impact(cash=900)
    assert ledger.impact_on("la_fa", HOLD, None) == Impact(cash=-4_000, outbound_pending=4_000)
    void = _t("v", 4_000, Kind.VOID_PENDING, pending_id="hold")
    assert ledger.impact_on("la_fa", void, HOLD) == Impact(cash=4_000, outbound_pending=-4_000)
    post = _t("p", 1_500, Kind.POST_PENDING, pending_id="hold")
    # The hold goes away (cash +4000, pending -4000) and 1500 is spent: net cash back 2500.
    assert ledger.impact_on("la_fa", post, HOLD) == Impact(cash=2_500, outbound_pending=-4_000)


def test_impact_of_incoming_pending_is_inbound_pending():
    incoming = _t(amount=800, kind=Kind.PENDING, debit="la_net", credit="la_fa")
    assert ledger.impact_on("la_fa", incoming, None) == Impact(inbound_pending=800)


def test_impact_on_an_uninvolved_account_is_zero():
    assert ledger.impact_on("la_other", _t(), None) == Impact()


def test_impact_addition():
    assert Impact(1, 2, 3) + Impact(10, 20, 30) == Impact(11, 22, 33)


# -- the same semantics end to end, in memory --------------------------------------------


@dataclass
class MemoryLedger:
    """What services.ledger.execute does, without SQL: all of a batch or none of it."""

    accounts: dict[str, Account]
    transfers: dict[str, Transfer] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)

    def execute(self, batch: list[Transfer]) -> Result:
        accounts, transfers, resolved = (
            dict(self.accounts),
            dict(self.transfers),
            set(self.resolved),
        )
        for transfer in batch:
            pending = transfers.get(transfer.pending_id) if transfer.pending_id else None
            result = ledger.check(
                transfer,
                accounts[transfer.debit_account],
                accounts[transfer.credit_account],
                transfers.get(transfer.id),
                pending,
                (transfer.pending_id or "") in resolved,
            )
            if result is Result.EXISTS:
                continue
            if result is not Result.OK:
                return result
            debit_delta, credit_delta = ledger.effect(transfer, pending)
            debit, credit = accounts[transfer.debit_account], accounts[transfer.credit_account]
            accounts[debit.id] = Account(
                debit.id, debit.currency, ledger.add(debit.totals, debit_delta)
            )
            accounts[credit.id] = Account(
                credit.id, credit.currency, ledger.add(credit.totals, credit_delta)
            )
            transfers[transfer.id] = transfer
            if transfer.pending_id:
                resolved.add(transfer.pending_id)
        self.accounts, self.transfers, self.resolved = accounts, transfers, resolved
        return Result.OK

    def open_holds(self) -> list[Transfer]:
        return [
            t
            for t in self.transfers.values()
            if t.kind is Kind.PENDING and t.id not in self.resolved
        ]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["credit", "debit", "hold", "post", "void", "capture", "replay"]),
        st.integers(min_value=-10, max_value=5_000),
        st.integers(min_value=0, max_value=20),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_in_memory_ledger_keeps_its_invariants(ops):
    books = MemoryLedger(
        {
            "la_fa": Account("la_fa", "usd"),
            "la_net": Account("la_net", "usd"),
            "la_ach": Account("la_ach", "usd"),
        }
    )
    impacts = Impact()
    for step, (op, amount, pick) in enumerate(ops):
        holds = books.open_holds()
        hold = holds[pick % len(holds)] if holds else None
        if op == "credit":
            batch = [_t(f"c{step}", amount, debit="la_ach", credit="la_fa")]
        elif op == "debit":
            batch = [_t(f"d{step}", amount, debit="la_fa", credit="la_ach", require_available=True)]
        elif op == "hold":
            batch = [_t(f"h{step}", amount, Kind.PENDING, require_available=True)]
        elif op in ("post", "void") and hold is not None:
            kind = Kind.POST_PENDING if op == "post" else Kind.VOID_PENDING
            batch = [_t(f"r{step}", amount, kind, pending_id=hold.id)]
        elif op == "capture" and hold is not None:
            # Close an authorization: void its hold and post the capture, which may exceed it.
            batch = [
                _t(f"v{step}", hold.amount, Kind.VOID_PENDING, pending_id=hold.id),
                _t(f"p{step}", amount, Kind.POSTED),
            ]
        elif op == "replay" and books.transfers:
            batch = [list(books.transfers.values())[pick % len(books.transfers)]]
        else:
            continue
        before = books.accounts["la_fa"].totals
        pendings = {t.pending_id: books.transfers.get(t.pending_id) for t in batch if t.pending_id}
        fresh = [t for t in batch if t.id not in books.transfers]
        result = books.execute(batch)
        if result is Result.OK:
            for transfer in fresh:
                impacts = impacts + ledger.impact_on(
                    "la_fa", transfer, pendings.get(transfer.pending_id)
                )
        else:
            assert books.accounts["la_fa"].totals == before  # nothing changed
        totals = [a.totals for a in books.accounts.values()]
        # Per currency, debits equal credits, pending and posted separately.
        assert sum(t.debits_pending for t in totals) == sum(t.credits_pending for t in totals)
        assert sum(t.debits_posted for t in totals) == sum(t.credits_posted for t in totals)
        fa = books.accounts["la_fa"].totals
        # The Treasury balance equals the sum of the impacts reported for each committed transfer.
        assert ledger.balance_of(fa) == impacts
        # Pending debits are exactly the open holds.
        assert fa.debits_pending == sum(t.amount for t in books.open_holds())
        # A funds-checked debit or hold never leaves cash below zero; only a capture can.
        if op in ("debit", "hold") and result is Result.OK:
            assert ledger.balance_of(fa).cash >= 0


# -- services.ledger.execute on a real (in-memory SQLite) store ----------------------------


@pytest.fixture()
def uow():
    engine = create_engine("sqlite://")
    tables.metadata.create_all(engine)
    with engine.connect() as conn, conn.begin():
        yield UnitOfWork(conn)
    engine.dispose()


def _store_accounts(uow):
    fa = service.account_id(uow, service.FINANCIAL_ACCOUNT, "fa_1", "USD", 0)
    net = service.account_id(uow, service.CARD_NETWORK, "acct_1", "usd", 0)
    ach = service.account_id(uow, service.external("ach"), "acct_1", "usd", 0)
    assert (
        service.account_id(uow, service.FINANCIAL_ACCOUNT, "fa_1", "usd", 0) == fa
    )  # found, not duplicated
    return fa, net, ach


def test_execute_applies_a_batch_atomically_and_replays_are_no_ops(uow):
    fa, net, ach = _store_accounts(uow)
    credit = _t("c1", 5_000, debit=ach, credit=fa)
    assert service.execute(uow, [credit], 1).results == [Result.OK]
    hold = _t("h1", 3_000, Kind.PENDING, debit=fa, credit=net, require_available=True)
    service.execute(uow, [hold], 2)
    store = service.store(uow)
    assert ledger.balance_of(store.read([fa])[fa].totals) == Impact(
        cash=2_000, outbound_pending=3_000
    )

    # A void then a bigger hold in one batch: the second sees the first's release.
    void = _t("h1:void", 3_000, Kind.VOID_PENDING, debit=fa, credit=net, pending_id="h1")
    bigger = _t("h2", 5_000, Kind.PENDING, debit=fa, credit=net, require_available=True)
    outcome = service.execute(uow, [void, bigger], 3)
    assert outcome.impact_on(fa, [void, bigger]) == Impact(cash=-2_000, outbound_pending=2_000)
    assert "h1" in store.resolved(["h1"]) and store.transfers(["h2"])["h2"].same_fields(bigger)

    # A batch whose last transfer fails writes nothing at all.
    count = store.count()
    before = store.read([fa, net, ach])
    post = _t("p2", 1_000, Kind.POST_PENDING, debit=fa, credit=net, pending_id="h2")
    greedy = _t("d1", 4_001, debit=fa, credit=ach, require_available=True)  # the post leaves 4000
    with pytest.raises(service.LedgerRejected) as rejected:
        service.execute(uow, [post, greedy], 4)
    assert rejected.value.result is Result.EXCEEDS_AVAILABLE and rejected.value.transfer == greedy
    assert store.count() == count and store.read([fa, net, ach]) == before
    assert "h2" not in store.resolved(["h2"])

    # A replay of a committed transfer is EXISTS and changes nothing; different fields are refused.
    assert service.execute(uow, [credit], 5).results == [Result.EXISTS]
    with pytest.raises(service.LedgerRejected) as different:
        service.execute(uow, [_t("c1", 5_001, debit=ach, credit=fa)], 5)
    assert different.value.result is Result.EXISTS_WITH_DIFFERENT_FIELDS
    assert store.read([fa, net, ach]) == before

    # Posting part of the hold releases the rest.
    service.execute(uow, [post], 6)
    assert ledger.balance_of(store.read([fa])[fa].totals) == Impact(cash=4_000)
    assert [t.id for t in store.flow_transfers("flow_1")] == ["c1", "h1", "h1:void", "h2", "p2"]
    assert audit(uow.conn) == []
