"""Cursor pagination and ``created`` range filters, read from validated params."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openissuing.domain.errors import InvalidRequest, ParameterInvalid
from openissuing.storage.documents import CreatedRange

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass(frozen=True)
class ListArgs:
    limit: int
    starting_after: str | None
    ending_before: str | None
    created: CreatedRange | None

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "starting_after": self.starting_after,
            "ending_before": self.ending_before,
            "created": self.created,
        }


def list_args(params: dict[str, Any], range_name: str = "created") -> ListArgs:
    limit = params.get("limit", DEFAULT_LIMIT)
    if limit == "":
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ParameterInvalid(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            code="parameter_invalid_integer",
            param="limit",
        )
    starting_after = params.get("starting_after") or None
    ending_before = params.get("ending_before") or None
    if starting_after and ending_before:
        raise InvalidRequest(
            "You may only specify one of these parameters: starting_after, ending_before.",
            code="parameters_exclusive",
            param="ending_before",
        )
    return ListArgs(
        limit, starting_after, ending_before, created_range(params.get(range_name), range_name)
    )


def created_range(value: Any, name: str = "created") -> CreatedRange | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return CreatedRange(gte=value, lte=value)
    if isinstance(value, dict):
        return CreatedRange(
            gt=value.get("gt"), gte=value.get("gte"), lt=value.get("lt"), lte=value.get("lte")
        )
    raise ParameterInvalid(f"Invalid {name}: must be an integer or a range", param=name)
