"""Reusable test data for the guide's flow: a connected account ready for Issuing + Treasury.

The parameters themselves live in ``openissuing.fixtures`` (the demo, trigger and seed
commands send the same ones).
"""

from __future__ import annotations

from typing import Any

from openissuing.fixtures import (  # noqa: F401 - re-exported for the tests
    ONBOARDED_ACCOUNT_PARAMS,
    ONBOARDED_CAPABILITIES,
    TOS_ACCEPTANCE,
    onboarded_account_params,
)


def activated_account(client, **overrides: Any) -> str:
    """Create a connected account whose card_issuing, transfers and treasury are active; its id."""
    account = client.v1.accounts.create(params=onboarded_account_params(**overrides))
    statuses = account.capabilities.to_dict()
    missing = account.requirements.currently_due
    assert all(statuses.get(name) == "active" for name in ONBOARDED_CAPABILITIES), (
        statuses,
        missing,
    )
    return account.id
