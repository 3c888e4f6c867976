"""The ledger day: the calendar day of a moment in the bank's time zone.

Every dated rule and report (blacklist dates, daily volume caps, settlement
deadlines, AML days, reference-rate dates, report days and months) counts in
ledger days. The bank's zone is recorded when it is established; a store
whose history records none (every store written before zones were
recorded) keeps UTC, the rule its history was decided under.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import UnknownTimeZone

DEFAULT_TIME_ZONE = "Europe/Minsk"
UNRECORDED_TIME_ZONE = "UTC"  # the zone of a history that records none
TIME_ZONE_NAME_LENGTH_MAX = 64


@cache
def zone_named(name: str) -> tzinfo:
    """The IANA zone `name`; refuses a name the zone database does not hold."""
    if name == UNRECORDED_TIME_ZONE:
        return UTC
    if not name or len(name) > TIME_ZONE_NAME_LENGTH_MAX or name.startswith("/") or ".." in name:
        raise UnknownTimeZone(name=name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(name=name) from None


def ledger_day(moment: datetime, zone: tzinfo) -> date:
    """The day `moment` falls on in `zone`: the one definition of a ledger day."""
    return moment.astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first moment of `day` in `zone`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
