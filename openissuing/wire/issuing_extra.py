"""issuing.token, issuing.personalization_design, issuing.physical_bundle and ephemeral_key
on the wire.

Relations: a token's ``network_data`` is shown only when the presenter loaded it
(``related["network_data"]``: an explicit expand on a retrieve or update, within 24 hours of
the token's creation, as Stripe restricts it); an ephemeral key's ``secret`` only when the
presenter passes it (``related["secret"]``: the create response, never again).
"""

from __future__ import annotations

from openissuing.wire import View, base, public


def token(record: dict, view: View) -> dict:
    out = base(public(record), "issuing.token")
    out["network_data"] = view.related.get("network_data")
    return out


def wants_network_data(view: View) -> bool:
    return "network_data" in view.expand and view.reveal_secrets


def personalization_design(record: dict, view: View) -> dict:
    return base(public(record), "issuing.personalization_design")


def physical_bundle(record: dict, view: View) -> dict:
    return base(public(record), "issuing.physical_bundle")


def ephemeral_key(record: dict, view: View) -> dict:
    out = base(public(record), "ephemeral_key")
    out["secret"] = view.related.get("secret")
    return out


def ephemeral_key_nonce(record: dict, view: View) -> dict:
    out = base(public(record), "ephemeral_key_nonce")
    out["public_nonce"] = record["id"]
    out["private_nonce"] = view.related.get("private_nonce")
    return out
