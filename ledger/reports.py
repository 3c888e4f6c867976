"""Reports read from the views, brought up to the head of the log first."""

from __future__ import annotations

from collections import Counter
from typing import Any

from domain.errors import RULE_VIOLATIONS
from ledger.service import Ledger


def venues(ledger: Ledger) -> list[dict[str, Any]]:
    ledger.projector.catch_up()
    with ledger.backend.views() as session:
        rows = session.fetchall(
            "SELECT venue_id, name, kind, domestic, listed, assets FROM view_venues ORDER BY venue_id"
        )
    return [
        {
            "venue_id": venue_id,
            "name": name,
            "kind": kind,
            "domestic": bool(domestic),
            "listed": bool(listed),
            "assets": assets.split(","),
        }
        for venue_id, name, kind, domestic, listed, assets in rows
    ]


def compliance(ledger: Ledger) -> dict[str, Any]:
    """Recorded rejections by rule (every rule code named, zero included), by
    client, by venue and by day, with the rows they are counted from."""
    ledger.projector.catch_up()
    position = ledger.projector.position()
    with ledger.backend.views() as session:
        rows = session.fetchall(
            "SELECT day, rule, client_id, venue_id, command_type, rejections FROM view_compliance "
            "ORDER BY day, rule, client_id, venue_id, command_type"
        )
    by_rule: Counter[str] = Counter(dict.fromkeys(sorted(RULE_VIOLATIONS), 0))
    by_client: Counter[str] = Counter()
    by_venue: Counter[str] = Counter()
    by_day: Counter[str] = Counter()
    for day, rule, client_id, venue_id, _, count in rows:
        by_rule[rule] += count
        by_day[day] += count
        if client_id:
            by_client[client_id] += count
        if venue_id:
            by_venue[venue_id] += count
    return {
        "as_of_position": position,
        "total": sum(by_day.values()),
        "by_rule": dict(by_rule),
        "by_client": dict(sorted(by_client.items())),
        "by_venue": dict(sorted(by_venue.items())),
        "by_day": dict(sorted(by_day.items())),
        "rows": [
            {
                "day": day,
                "rule": rule,
                "client_id": client or None,
                "venue_id": venue or None,
                "command_type": command_type,
                "rejections": count,
            }
            for day, rule, client, venue, command_type, count in rows
        ],
    }
