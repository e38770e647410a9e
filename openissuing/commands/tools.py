"""``openissuing demo | trigger | seed | listen``: steer a running server from a terminal.

Each talks to the server over HTTP as a user's code would (``openissuing.commands.client``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openissuing import fixtures
from openissuing.commands.client import Api, ApiError, api_base, secret_key


class Failed(Exception):
    """A step did not behave as Stripe's guide says."""


def _sandbox_api(args: argparse.Namespace, name: str) -> tuple[Api, str]:
    """The key's own sandbox, or a fresh one when ``--new-sandbox`` (default key only)."""
    base = api_base(args.api_base)
    api = Api(base, secret_key(args.api_key))
    if getattr(args, "new_sandbox", False):
        made = api.post("/_openissuing/sandboxes", {"name": name})
        api.close()
        return Api(base, made["secret_key"]), made["id"]
    current = api.get("/_openissuing/sandboxes/current")
    return api, current["id"]


def _open(args: argparse.Namespace, command: str) -> tuple[Api, str] | None:
    """``_sandbox_api``, or None once the one-line reason is printed (no server, bad key)."""
    try:
        return _sandbox_api(args, command)
    except (Failed, ApiError) as error:
        print(f"openissuing {command}: {error}", file=sys.stderr)
        return None


@dataclass
class Stage:
    """The objects a flow needs, made on demand: account → FA (funded) → cardholder → card."""

    api: Api
    log: Callable[[str], None]
    account: str | None = None
    financial_account: str | None = None
    cardholder: str | None = None
    card: str | None = None
    made: list[str] = field(default_factory=list)

    def _note(self, what: str, object_id: str) -> str:
        self.made.append(object_id)
        self.log(f"  made {what} {object_id}")
        return object_id

    def ensure_account(self) -> str:
        if self.account is None:
            account = self.api.post("/v1/accounts", fixtures.onboarded_account_params())
            statuses = account["capabilities"]
            if statuses.get("card_issuing") != "active":
                raise Failed(f"card_issuing is {statuses.get('card_issuing')} on {account['id']}")
            self.account = self._note("connected account", account["id"])
        return self.account

    def ensure_financial_account(self, fund: int = 100_000) -> str:
        if self.financial_account is None:
            acct = self.ensure_account()
            fa = self.api.post(
                "/v1/treasury/financial_accounts",
                {
                    "supported_currencies": ["usd"],
                    "features": {"card_issuing": {"requested": True}},
                },
                account=acct,
            )
            self.financial_account = self._note("financial account", fa["id"])
            if fund:
                self.fund(fund)
        return self.financial_account

    def fund(self, amount: int) -> dict[str, Any]:
        credit = self.api.post(
            "/v1/test_helpers/treasury/received_credits",
            {
                "financial_account": self.ensure_financial_account(),
                "amount": amount,
                "currency": "usd",
                "network": "ach",
            },
            account=self.account,
        )
        self.log(f"  funded {self.financial_account} with {_money(amount)} ({credit['id']})")
        return credit

    def ensure_cardholder(self, **overrides: Any) -> str:
        if self.cardholder is None:
            holder = self.api.post(
                "/v1/issuing/cardholders",
                fixtures.cardholder_params(**overrides),
                account=self.ensure_account(),
            )
            self.cardholder = self._note("cardholder", holder["id"])
        return self.cardholder

    def ensure_card(self) -> str:
        if self.card is None:
            params = {
                "cardholder": self.ensure_cardholder(),
                "financial_account": self.ensure_financial_account(),
                "currency": "usd",
                "type": "virtual",
                "status": "active",
            }
            card = self.api.post("/v1/issuing/cards", params, account=self.account)
            self.card = self._note("card", card["id"])
        return self.card

    def find_card(self, card_id: str) -> None:
        """Adopt a card given by id: find the account it lives in (connected or platform)."""
        candidates = [self.account] if self.account else []
        if not candidates:
            listed = self.api.get("/v1/accounts", {"limit": 100})
            candidates = [a["id"] for a in listed["data"]] + [None]
        for account in candidates:
            try:
                card = self.api.get(f"/v1/issuing/cards/{card_id}", account=account)
            except ApiError as error:
                if error.status in (403, 404):
                    continue
                raise
            self.account, self.card = account, card["id"]
            self.cardholder = card["cardholder"]["id"]
            self.financial_account = card.get("financial_account")
            return
        raise Failed(f"no card {card_id} in this sandbox's accounts")

    def authorize(self, amount: int, **extra: Any) -> dict[str, Any]:
        return self.api.post(
            "/v1/test_helpers/issuing/authorizations",
            {"card": self.ensure_card(), "amount": amount, **extra},
            account=self.account,
        )

    def capture(self, auth_id: str, **params: Any) -> dict[str, Any]:
        return self.api.post(
            f"/v1/test_helpers/issuing/authorizations/{auth_id}/capture",
            params,
            account=self.account,
        )

    def balance(self) -> dict[str, int]:
        fa = self.api.get(
            f"/v1/treasury/financial_accounts/{self.ensure_financial_account()}",
            account=self.account,
        )
        return {
            name: fa["balance"][name].get("usd", 0)
            for name in ("cash", "inbound_pending", "outbound_pending")
        }


def _money(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount) / 100:,.2f}"


# ------------------------------------------------------------------------ demo


def demo(args: argparse.Namespace) -> int:
    """Stripe's "Working with Stripe Issuing cards" guide, end to end, checked at every step."""
    opened = _open(args, "demo")
    if opened is None:
        return 1
    api, sandbox = opened
    say = _printer(args)
    say(f"openissuing demo against {api.base} (sandbox {sandbox})")
    stage = Stage(api, say)
    rows: list[tuple[str, dict[str, int]]] = []
    steps = _demo_steps(stage)
    for number, (title, step) in enumerate(steps, start=1):
        say(f"{number:>2}. {title}")
        try:
            step()
        except (Failed, ApiError) as error:
            say(f"    FAILED: {error}")
            print(f"openissuing demo: step {number} ({title}) failed: {error}", file=sys.stderr)
            return 1
        if stage.financial_account:
            rows.append((title, stage.balance()))
    _print_table(say, rows)
    say("openissuing demo: every step behaved as the guide says")
    return 0


def _expect_books(stage: Stage, cash: int, outbound_pending: int = 0) -> None:
    seen = stage.balance()
    if (seen["cash"], seen["outbound_pending"]) != (cash, outbound_pending):
        raise Failed(
            f"expected cash {_money(cash)} / outbound_pending {_money(outbound_pending)}, "
            f"saw {_money(seen['cash'])} / {_money(seen['outbound_pending'])}"
        )


def _demo_steps(stage: Stage) -> list[tuple[str, Callable[[], None]]]:
    state: dict[str, Any] = {}

    def account() -> None:
        stage.ensure_account()

    def financial_account() -> None:
        fa_id = stage.ensure_financial_account(fund=0)
        fa = stage.api.get(f"/v1/treasury/financial_accounts/{fa_id}", account=stage.account)
        if "card_issuing" not in fa["active_features"]:
            raise Failed(f"card_issuing is not active on {fa_id}: {fa['pending_features']}")
        _expect_books(stage, 0)

    def fund() -> None:
        stage.fund(10_000)
        _expect_books(stage, 10_000)

    def card() -> None:
        stage.ensure_card()

    def approved() -> None:
        auth = stage.authorize(2_000)
        if not auth["approved"] or auth["status"] != "pending":
            raise Failed(f"expected an approved pending authorization, got {auth['status']}")
        state["auth"] = auth["id"]
        stage.log(f"  approved {auth['id']} for {_money(2_000)}: a hold")
        _expect_books(stage, 8_000, 2_000)

    def declined() -> None:
        auth = stage.authorize(50_000)
        reason = auth["request_history"][-1]["reason"]
        if auth["approved"] or reason != "insufficient_funds":
            raise Failed(f"expected a decline for insufficient_funds, got {reason}")
        stage.log(f"  declined {auth['id']} for {_money(50_000)}: {reason}")
        _expect_books(stage, 8_000, 2_000)

    def capture() -> None:
        captured = stage.capture(state["auth"])
        state["capture"] = captured["transactions"][-1]["id"]
        stage.log(f"  captured {state['auth']} as {state['capture']}")
        _expect_books(stage, 8_000)

    def refund() -> None:
        stage.api.post(
            f"/v1/test_helpers/issuing/transactions/{state['capture']}/refund",
            {"refund_amount": 500},
            account=stage.account,
        )
        stage.log(f"  refunded {_money(500)} of {state['capture']}")
        _expect_books(stage, 8_500)

    def dispute(outcome: str, amount: int, cash: int) -> Callable[[], None]:
        def run() -> None:
            auth = stage.authorize(amount)
            txn = stage.capture(auth["id"])["transactions"][-1]["id"]
            explanation = f"Card reported stolen. {outcome}_evidence"
            made = stage.api.post(
                "/v1/issuing/disputes",
                {
                    "transaction": txn,
                    "evidence": {
                        "reason": "fraudulent",
                        "fraudulent": {"explanation": explanation},
                    },
                },
                account=stage.account,
            )
            stage.api.post(f"/v1/issuing/disputes/{made['id']}/submit", account=stage.account)
            ruled = stage.api.get(f"/v1/issuing/disputes/{made['id']}", account=stage.account)
            expected = "won" if outcome == "winning" else "lost"
            if ruled["status"] != expected:
                raise Failed(f"dispute {made['id']} is {ruled['status']}, expected {expected}")
            stage.log(f"  dispute {made['id']} on {txn}: {ruled['status']}")
            _expect_books(stage, cash)

        return run

    return [
        ("connected account with card_issuing and treasury active", account),
        ("financial account with the card_issuing feature", financial_account),
        ("fund it with a received credit", fund),
        ("cardholder and virtual card", card),
        ("a purchase within the balance is approved", approved),
        ("a purchase above the balance is declined", declined),
        ("capture the approved purchase", capture),
        ("refund part of it", refund),
        ("a disputed purchase is won: the money comes back", dispute("winning", 1_000, 8_500)),
        ("a disputed purchase is lost: nothing comes back", dispute("losing", 1_500, 7_000)),
    ]


def _print_table(say: Callable[[str], None], rows: list[tuple[str, dict[str, int]]]) -> None:
    if not rows:
        return
    width = max(len(title) for title, _ in rows)
    say("")
    say(f"{'after step'.ljust(width)}  {'cash':>12}  {'outbound_pending':>16}")
    for title, balance in rows:
        say(
            f"{title.ljust(width)}  {_money(balance['cash']):>12}  "
            f"{_money(balance['outbound_pending']):>16}"
        )
    say("")


def _printer(args: argparse.Namespace) -> Callable[[str], None]:
    quiet = getattr(args, "quiet", False)
    return (lambda line: None) if quiet else (lambda line: print(line, flush=True))


# --------------------------------------------------------------------- trigger

TRIGGERS = (
    "issuing_authorization.request",
    "issuing_authorization.created",
    "issuing_transaction.created",
    "issuing_dispute.created",
    "issuing_card.created",
    "issuing_cardholder.created",
)


def trigger(args: argparse.Namespace) -> int:
    opened = _open(args, "trigger")
    if opened is None:
        return 1
    api, sandbox = opened
    say = _printer(args)
    stage = Stage(api, say, account=args.account)
    try:
        if args.card:
            stage.find_card(args.card)
        _run_trigger(stage, args, say)
    except (Failed, ApiError) as error:
        print(f"openissuing trigger: {error}", file=sys.stderr)
        return 1
    return 0


def _run_trigger(stage: Stage, args: argparse.Namespace, say: Callable[[str], None]) -> None:
    event = args.event
    if event == "issuing_cardholder.created":
        stage.cardholder = None
        stage.ensure_cardholder()
        return
    if event == "issuing_card.created":
        stage.card = None
        stage.ensure_card()
        return
    extra: dict[str, Any] = {"currency": args.currency}
    merchant = {
        k: v
        for k, v in (("category", args.merchant_category), ("country", args.merchant_country))
        if v
    }
    if merchant:
        extra["merchant_data"] = merchant
    auth = stage.authorize(args.amount, **extra)
    history = auth["request_history"][-1] if auth["request_history"] else {}
    decision = "approved" if auth["approved"] else f"declined ({history.get('reason')})"
    say(f"  authorization {auth['id']}: {decision}, reason {history.get('reason')}")
    if event in ("issuing_authorization.request", "issuing_authorization.created"):
        return
    if not auth["approved"]:
        raise Failed(
            f"the authorization was declined ({history.get('reason')}); nothing to capture"
        )
    txn = stage.capture(auth["id"])["transactions"][-1]["id"]
    say(f"  transaction {txn} (capture)")
    if event == "issuing_transaction.created":
        return
    dispute = stage.api.post(
        "/v1/issuing/disputes",
        {
            "transaction": txn,
            "evidence": {"reason": "fraudulent", "fraudulent": {"explanation": "Not mine."}},
        },
        account=stage.account,
    )
    say(f"  dispute {dispute['id']} ({dispute['status']})")


# ------------------------------------------------------------------------ seed


def seed(args: argparse.Namespace) -> int:
    """A small, realistic data set: accounts, cardholders, cards, purchases, captures, refunds,
    a dispute."""
    opened = _open(args, "seed")
    if opened is None:
        return 1
    api, sandbox = opened
    say = _printer(args)
    say(f"openissuing seed into sandbox {sandbox} at {api.base}")
    names = [("Jenny", "Rosen"), ("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper")]
    categories = [
        "grocery_stores_supermarkets",
        "eating_places_restaurants",
        "taxicabs_limousines",
        "hotels_motels_and_resorts",
        "computer_software_stores",
    ]
    purchases = 0
    try:
        for company in range(args.accounts):
            stage = Stage(api, lambda line: None)
            stage.ensure_financial_account(fund=250_000)
            for holder in range(2):
                first, last = names[(company * 2 + holder) % len(names)]
                stage.cardholder, stage.card = None, None
                stage.ensure_cardholder(
                    name=f"{first} {last}", individual={"first_name": first, "last_name": last}
                )
                stage.ensure_card()
                for day in range(args.purchases):
                    amount = 500 + 137 * ((company + holder + day) % 11)
                    category = categories[(company + holder + day) % len(categories)]
                    auth = stage.authorize(amount, merchant_data={"category": category})
                    purchases += 1
                    if auth["approved"] and day % 3 != 2:
                        txn = stage.capture(auth["id"])["transactions"][-1]["id"]
                        if day == 4:
                            stage.api.post(
                                f"/v1/test_helpers/issuing/transactions/{txn}/refund",
                                {"refund_amount": amount // 2},
                                account=stage.account,
                            )
                        if company == 0 and holder == 0 and day == 1:
                            stage.api.post(
                                "/v1/issuing/disputes", {"transaction": txn}, account=stage.account
                            )
            shown = stage.balance()
            say(
                f"  {stage.account}: financial account {stage.financial_account}, cash "
                f"{_money(shown['cash'])}, outbound_pending {_money(shown['outbound_pending'])}"
            )
    except (Failed, ApiError) as error:
        print(f"openissuing seed: {error}", file=sys.stderr)
        return 1
    say(
        f"openissuing seed: {args.accounts} accounts, {args.accounts * 2} cards, "
        f"{purchases} purchases"
    )
    return 0


# ---------------------------------------------------------------------- parser


def _common(parser: argparse.ArgumentParser, *, new_sandbox_help: str | None = None) -> None:
    parser.add_argument("--api-base", help="the server (env OPENISSUING_API_BASE)")
    parser.add_argument("--api-key", help="a secret key (env OPENISSUING_API_KEY)")
    if new_sandbox_help:
        parser.add_argument("--new-sandbox", action="store_true", help=new_sandbox_help)
    parser.add_argument("--quiet", action="store_true", help="print only errors")


def add_commands(commands: Any) -> None:
    demo_cmd = commands.add_parser(
        "demo",
        help="walk Stripe's 'Working with Stripe Issuing cards' guide against a server",
        description="Connected account, financial account, funding, cardholder, card, an "
        "approved and a declined purchase, capture, refund, a won and a lost dispute — each "
        "checked against the guide; exits 1 at the first step that does not behave.",
    )
    _common(demo_cmd, new_sandbox_help="run in a fresh sandbox (needs the default key)")
    demo_cmd.set_defaults(run=demo)
    trigger_cmd = commands.add_parser(
        "trigger",
        help="run one Issuing flow, making whatever fixtures are missing",
        description="Creates what the flow needs (account, funded financial account, "
        "cardholder, card) unless --card names one, then runs it and prints the ids.",
    )
    trigger_cmd.add_argument("event", choices=TRIGGERS)
    trigger_cmd.add_argument("--card", help="an existing card (ic_…)")
    trigger_cmd.add_argument("--account", help="the connected account of --card (acct_…)")
    trigger_cmd.add_argument("--amount", type=int, default=1_000, help="minor units (1000)")
    trigger_cmd.add_argument("--currency", default="usd")
    trigger_cmd.add_argument("--merchant-category", help="e.g. eating_places_restaurants")
    trigger_cmd.add_argument("--merchant-country", help="e.g. US")
    _common(trigger_cmd, new_sandbox_help="run in a fresh sandbox (needs the default key)")
    trigger_cmd.set_defaults(run=trigger)
    seed_cmd = commands.add_parser(
        "seed", help="fill a sandbox with a small, realistic data set for looking around"
    )
    seed_cmd.add_argument("--accounts", type=int, default=3)
    seed_cmd.add_argument("--purchases", type=int, default=7, help="purchases per card (7)")
    _common(seed_cmd, new_sandbox_help="seed a fresh sandbox (needs the default key)")
    seed_cmd.set_defaults(run=seed)
