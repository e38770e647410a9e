"""Physical bundles: the fixed catalogue of card, carrier and envelope combinations.

On Stripe a bundle is set up with Stripe (standard bundles exist for every Issuing account;
custom ones are ordered). Here the catalogue is a constant, the same in every sandbox, so
documentation and tests can name the ids. Nothing stores a bundle: reads come from this
table, and a personalization design keeps the id of its bundle.

``features`` says, per design element, whether a design on this bundle must (``required``),
may (``optional``) or must not (``unsupported``) set it: ``card_logo`` and ``carrier_text``
are checked on the design, ``second_line`` on each card printed with it.
"""

from __future__ import annotations

from typing import Any

from openissuing.domain.errors import InvalidRequest, ResourceMissing

Record = dict[str, Any]
TYPE = "issuing.physical_bundle"
FEATURES = ("card_logo", "carrier_text", "second_line")


def _bundle(bundle_id: str, name: str, kind: str, status: str, **features: str) -> Record:
    return {
        "id": bundle_id,
        "object": TYPE,
        "features": {name_: features[name_] for name_ in FEATURES},
        "livemode": False,
        "name": name,
        "status": status,
        "type": kind,
    }


# Newest first, as every Stripe list: the order ``list`` pages through.
CATALOGUE: tuple[Record, ...] = (
    _bundle(
        "ics_standard_black",
        "Standard black card",
        "standard",
        "active",
        card_logo="optional",
        carrier_text="optional",
        second_line="optional",
    ),
    _bundle(
        "ics_standard_white",
        "Standard white card",
        "standard",
        "active",
        card_logo="optional",
        carrier_text="optional",
        second_line="optional",
    ),
    _bundle(
        "ics_custom_logo_required",
        "Custom card, logo required",
        "custom",
        "active",
        card_logo="required",
        carrier_text="optional",
        second_line="optional",
    ),
    _bundle(
        "ics_custom_plain",
        "Custom card, no personalization",
        "custom",
        "active",
        card_logo="unsupported",
        carrier_text="unsupported",
        second_line="unsupported",
    ),
    _bundle(
        "ics_custom_in_review",
        "Custom card, awaiting Stripe's review",
        "custom",
        "review",
        card_logo="optional",
        carrier_text="optional",
        second_line="optional",
    ),
    _bundle(
        "ics_custom_retired",
        "Custom card, retired",
        "custom",
        "inactive",
        card_logo="optional",
        carrier_text="optional",
        second_line="optional",
    ),
)
_BY_ID = {bundle["id"]: bundle for bundle in CATALOGUE}


def get(bundle_id: str) -> Record | None:
    found = _BY_ID.get(bundle_id)
    return None if found is None else {**found, "features": dict(found["features"])}


def require(bundle_id: str, param: str = "physical_bundle") -> Record:
    found = get(bundle_id)
    if found is None:
        raise ResourceMissing(TYPE, bundle_id, param=param)
    return found


def usable(bundle_id: str, param: str = "physical_bundle") -> Record:
    """A bundle a design may use: it must exist and be active."""
    bundle = require(bundle_id, param)
    if bundle["status"] != "active":
        raise InvalidRequest(
            f"The physical bundle {bundle_id} is `{bundle['status']}`; only an active bundle can "
            "be used for a personalization design.",
            param=param,
        )
    return bundle


def check_feature(bundle: Record, feature: str, given: bool, param: str) -> None:
    """``given``: whether the design (or card) sets ``feature``; refuse what the bundle forbids."""
    policy = bundle["features"][feature]
    if policy == "required" and not given:
        raise InvalidRequest(
            f"The physical bundle {bundle['id']} requires `{feature}`.", param=param
        )
    if policy == "unsupported" and given:
        raise InvalidRequest(
            f"The physical bundle {bundle['id']} does not support `{feature}`.", param=param
        )


def list_(
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 10,
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> tuple[list[Record], bool]:
    """One page of the catalogue, filtered; (records, has_more). Unknown cursors are 404s."""
    for param, cursor in (("starting_after", starting_after), ("ending_before", ending_before)):
        if cursor is not None and cursor not in _BY_ID:
            raise ResourceMissing(TYPE, cursor, param=param)
    chosen = [
        b
        for b in CATALOGUE
        if (status is None or b["status"] == status) and (kind is None or b["type"] == kind)
    ]
    ids = [b["id"] for b in CATALOGUE]
    if starting_after is not None:
        after = ids.index(starting_after)
        chosen = [b for b in chosen if ids.index(b["id"]) > after]
        page = chosen[:limit]
        return [get(b["id"]) or b for b in page], len(chosen) > limit
    if ending_before is not None:
        before = ids.index(ending_before)
        chosen = [b for b in chosen if ids.index(b["id"]) < before]
        page = chosen[-limit:] if limit else []
        return [get(b["id"]) or b for b in page], len(chosen) > limit
    return [get(b["id"]) or b for b in chosen[:limit]], len(chosen) > limit
