"""The ``Stripe-Version`` header: accept the versions Stripe has published, refuse the rest.

Stripe answers an unknown version with a 400 ``invalid_request_error`` whose message is
``Invalid Stripe API version: <what was sent>`` (no ``code``, no ``param``), before it looks at
anything else of the request. Published versions have two forms:

- dated (``2024-06-20``), up to 2024-06-20: the exact list is below;
- named (``2025-03-31.basil``), from 2024-09-30 on: a twice-yearly major release names every
  monthly release after it. The monthly dates are not all listed here; a named version is
  accepted when its name is the release whose span holds its date and the date is not later
  than the newest version this server speaks (its configured default, the SDK's pinned one).

A beta suffix (``2025-03-31.basil; some_beta=v1``) is allowed after a published version.
"""

from __future__ import annotations

from datetime import date

from openissuing.domain.errors import InvalidRequest

DATED = frozenset(
    """
    2011-01-01 2011-06-21 2011-06-28 2011-08-01 2011-09-15 2011-11-17 2012-02-23 2012-03-25
    2012-06-18 2012-06-28 2012-07-09 2012-09-24 2012-10-26 2012-11-07 2013-02-11 2013-02-13
    2013-07-05 2013-08-12 2013-08-13 2013-10-29 2013-12-03 2014-01-31 2014-03-13 2014-03-28
    2014-05-19 2014-06-13 2014-06-17 2014-07-22 2014-07-26 2014-08-04 2014-08-20 2014-09-08
    2014-10-07 2014-11-05 2014-11-20 2014-12-08 2014-12-17 2014-12-22 2015-01-11 2015-01-26
    2015-02-10 2015-02-16 2015-02-18 2015-03-24 2015-04-07 2015-06-15 2015-07-07 2015-07-13
    2015-07-28 2015-08-07 2015-08-19 2015-09-03 2015-09-08 2015-09-23 2015-10-01 2015-10-12
    2015-10-16 2016-02-03 2016-02-19 2016-02-22 2016-02-23 2016-02-29 2016-03-07 2016-06-15
    2016-07-06 2016-10-19 2017-01-27 2017-02-14 2017-04-06 2017-05-25 2017-06-05 2017-08-15
    2017-12-14 2018-01-23 2018-02-05 2018-02-06 2018-02-28 2018-05-21 2018-07-27 2018-08-23
    2018-09-06 2018-09-24 2018-10-31 2018-11-08 2019-02-11 2019-02-19 2019-03-14 2019-05-16
    2019-08-14 2019-09-09 2019-10-08 2019-10-17 2019-11-05 2019-12-03 2020-03-02 2020-08-27
    2022-08-01 2022-11-15 2023-08-16 2023-10-16 2024-04-10 2024-06-20
    """.split()
)

# Each major release and the date of its first version, oldest first.
MAJORS: tuple[tuple[str, date], ...] = (
    ("acacia", date(2024, 9, 30)),
    ("basil", date(2025, 3, 31)),
    ("clover", date(2025, 9, 30)),
    ("dahlia", date(2026, 3, 25)),
    ("endive", date(2026, 9, 30)),
)


def published(version: str, newest: str) -> bool:
    """Is ``version`` one Stripe has published (as far as a server speaking ``newest`` knows)?"""
    base = version.split(";", 1)[0].strip()
    if base == newest.split(";", 1)[0].strip() or base in DATED:
        return True
    day, dot, name = base.partition(".")
    if not dot:
        return False
    try:
        when = date.fromisoformat(day)
        newest_day = date.fromisoformat(newest.partition(".")[0])
    except ValueError:
        return False
    if len(day) != 10 or when > newest_day:
        return False
    spans = [
        (major, start, MAJORS[i + 1][1] if i + 1 < len(MAJORS) else date.max)
        for i, (major, start) in enumerate(MAJORS)
    ]
    return any(major == name and start <= when < end for major, start, end in spans)


def checked(header: str | None, default: str) -> str:
    """The version a request speaks: its header if published, else ``default``; raises if not."""
    if not header:
        return default
    if header == default or published(header, default):
        return header
    raise InvalidRequest(f"Invalid Stripe API version: {header}")
