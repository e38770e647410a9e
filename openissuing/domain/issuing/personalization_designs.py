"""Personalization designs: a physical bundle plus the account's logo and carrier letter text.

A design is created in ``review``; Stripe's review (in test mode, the test helpers) makes it
``active``, ``rejected`` or, later, ``inactive``. Only an active design prints cards. Changing
what Stripe reviews (the logo, the carrier text, the bundle) sends the design back to review.

Pure rules over validated params; the service loads the bundle and the account's other
designs (lookup keys and the default are unique per account) and stores what these return.
"""

from __future__ import annotations

import copy
from typing import Any

from openissuing.domain import metadata
from openissuing.domain.errors import InvalidRequest, InvalidStatusTransition, ParameterMissing
from openissuing.domain.issuing import physical_bundles

Record = dict[str, Any]
TYPE = "issuing.personalization_design"
CARRIER_FIELDS = ("footer_body", "footer_title", "header_body", "header_title")
# Stripe's published maxima for the carrier letter.
CARRIER_MAX = {"footer_body": 200, "footer_title": 30, "header_body": 200, "header_title": 30}
MAX_NAME_LENGTH = 200
MAX_LOOKUP_KEY_LENGTH = 200
# Fields Stripe reviews: changing one sends an active, inactive or rejected design back to review.
REVIEWED = ("card_logo", "carrier_text", "physical_bundle")

# helper -> (statuses it may start from, status it leads to, event)
HELPERS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "activate": (("review", "inactive"), "active", "issuing_personalization_design.activated"),
    "deactivate": (("active",), "inactive", "issuing_personalization_design.deactivated"),
    "reject": (("review",), "rejected", "issuing_personalization_design.rejected"),
}


def new(
    design_id: str, now: int, params: dict[str, Any], bundle: Record, *, is_platform: bool
) -> Record:
    """The design record (status ``review``); ``params`` validated against ``bundle``."""
    record: Record = {
        "id": design_id,
        "object": TYPE,
        "card_logo": None,
        "carrier_text": _carrier({}, None),
        "created": now,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "name": None,
        "physical_bundle": bundle["id"],
        "preferences": {"is_default": False, "is_platform_default": None},
        "rejection_reasons": {"card_logo": [], "carrier_text": []},
        "status": "review",
    }
    return _apply(record, params, bundle, is_platform=is_platform)


def update(
    existing: Record, params: dict[str, Any], bundle: Record, *, is_platform: bool
) -> Record:
    """Apply an update request (unset fields unchanged); validates everything first."""
    record = _apply(copy.deepcopy(existing), params, bundle, is_platform=is_platform)
    if any(record[f] != existing[f] for f in REVIEWED) and record["status"] != "review":
        record["status"] = "review"
        record["rejection_reasons"] = {"card_logo": [], "carrier_text": []}
    return record


def _apply(record: Record, params: dict[str, Any], bundle: Record, *, is_platform: bool) -> Record:
    if "card_logo" in params:
        logo = params["card_logo"] or None
        if logo is not None and not logo.startswith("file_"):
            raise InvalidRequest(
                f"No such file upload: '{logo}'. `card_logo` must be the id of a file "
                "uploaded with `purpose=issuing_logo`.",
                param="card_logo",
            )
        record["card_logo"] = logo
    if "carrier_text" in params:
        record["carrier_text"] = _carrier(record["carrier_text"], params["carrier_text"])
    for field, limit in (("name", MAX_NAME_LENGTH), ("lookup_key", MAX_LOOKUP_KEY_LENGTH)):
        if field in params:
            value = params[field] or None
            if value is not None and len(value) > limit:
                raise InvalidRequest(f"`{field}` must be at most {limit} characters.", param=field)
            record[field] = value
    if params.get("transfer_lookup_key") and not record["lookup_key"]:
        raise ParameterMissing("lookup_key")
    record["physical_bundle"] = bundle["id"]
    if "preferences" in params:
        record["preferences"]["is_default"] = bool(params["preferences"]["is_default"])
    # The platform's default is also what its connected accounts fall back to.
    record["preferences"]["is_platform_default"] = (
        record["preferences"]["is_default"] if is_platform else None
    )
    record["metadata"] = metadata.apply(record["metadata"], params.get("metadata"))
    check_features(record, bundle)
    return record


def _carrier(existing: Record, given: Any) -> Record:
    if given == "":
        return {field: None for field in CARRIER_FIELDS}
    out = {field: existing.get(field) for field in CARRIER_FIELDS}
    for field, value in (given or {}).items():
        text = value or None
        if text is not None and len(text) > CARRIER_MAX[field]:
            raise InvalidRequest(
                f"`carrier_text[{field}]` must be at most {CARRIER_MAX[field]} characters.",
                param=f"carrier_text[{field}]",
            )
        out[field] = text
    return out


def has_carrier_text(record: Record) -> bool:
    return any((record.get("carrier_text") or {}).get(field) for field in CARRIER_FIELDS)


def check_features(record: Record, bundle: Record) -> None:
    physical_bundles.check_feature(bundle, "card_logo", bool(record["card_logo"]), "card_logo")
    physical_bundles.check_feature(bundle, "carrier_text", has_carrier_text(record), "carrier_text")


def helper(design: Record, action: str, params: dict[str, Any]) -> tuple[Record, str]:
    """A test helper (activate, deactivate, reject): the new record and its event type."""
    allowed_from, target, event = HELPERS[action]
    if design["status"] not in allowed_from:
        raise InvalidStatusTransition(
            f"Cannot {action} the personalization design {design['id']}: its status is "
            f"`{design['status']}`, and `{action}` is only possible from "
            f"{' or '.join(f'`{s}`' for s in allowed_from)}."
        )
    record = copy.deepcopy(design)
    record["status"] = target
    if action == "reject":
        reasons = params["rejection_reasons"]
        card_logo, carrier_text = reasons.get("card_logo") or [], reasons.get("carrier_text") or []
        if not card_logo and not carrier_text:
            raise InvalidRequest(
                "Give at least one reason in `rejection_reasons[card_logo]` or "
                "`rejection_reasons[carrier_text]`.",
                param="rejection_reasons",
            )
        record["rejection_reasons"] = {"card_logo": card_logo, "carrier_text": carrier_text}
    else:
        record["rejection_reasons"] = {"card_logo": [], "carrier_text": []}
    return record, event


def require_active(design: Record, param: str = "personalization_design") -> None:
    """Cards print only with an active design."""
    if design["status"] != "active":
        raise InvalidRequest(
            f"The personalization design {design['id']} is `{design['status']}`; only an "
            "active design can be used for cards.",
            param=param,
        )


def filter_keys(record: Record) -> dict[str, Any]:
    prefs = record["preferences"]
    return {
        "status": record["status"],
        "lookup_key": record["lookup_key"],
        "is_default": str(prefs["is_default"]).lower(),
        "is_platform_default": None
        if prefs["is_platform_default"] is None
        else str(prefs["is_platform_default"]).lower(),
    }
