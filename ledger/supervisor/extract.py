"""Extracts in the supervisors' formats, over a period of ledger time, at a signed checkpoint.

    transactions.csv|json    every accepted transaction: its postings, parties, lateness, reversal links, leaves
    rejections.csv|json      every recorded rejection: its rule, reason and details, leaves
    travel_rule.ivms101.json every travel-rule record of the period in IVMS101's own JSON (lowerCamelCase):
                             crypto withdrawals with the payload they carried, settlements with their
                             originator and beneficiary data mapped onto IVMS101's persons
    checkpoint-N.txt, MANIFEST.sha256, extract.sig   as a report's (`ledger report verify` checks them)

A row's leaves are the leaf indexes of its events in the signed log; `ledger
audit prove --index N` gives the proof of any of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from domain.crossborder import PartyInfo
from domain.events import LedgerTransaction, SettlementInitiated
from domain.money import format_amount
from ledger.store.ports import ReadSession
from ledger.supervisor.evidence import events_of, leaf_indexes
from ledger.supervisor.tables import Table
from ledger.views import ReadModel, TransactionFilter, TransactionRow

FORMAT = "ledger-supervisor-extract/v1"
PAGE = 500
NATURAL_KINDS = frozenset({"individual", "self_employed"})  # client kinds that are natural persons in IVMS101


@dataclass
class Extract:
    since: datetime | None
    until: datetime | None
    transactions: Table
    rejections: Table
    travel_rule: list[dict[str, Any]]


def gather_extract(
    reader: ReadModel, session: ReadSession, tree_size: int, since: datetime | None, until: datetime | None
) -> Extract:
    accepted = list(_rows(reader, session, TransactionFilter(status="accepted", since=since, until=until)))
    refused = list(_rows(reader, session, TransactionFilter(status="rejected", since=since, until=until)))
    scales = reader.scales(session)
    commands = {row.key: row for row in accepted}  # the period's: a record is of the period when its command is
    settlements = [
        cast(SettlementInitiated, cited.event)
        for cited in events_of(reader.backend, session, (SettlementInitiated,))
        if cited.event.command_key in commands
    ]
    transfers = [row for row in reader.crypto_transfer_rows(session) if row.key in commands]
    kinds = {row.client_id: row.kind for row in reader.client_rows(session)}
    wanted = {n for row in (*accepted, *refused) for n in row.notification_ids}
    leaf_of = leaf_indexes(session, wanted, tree_size)
    postings = _postings(reader, session, accepted, scales)

    def leaves(row: TransactionRow) -> list[int]:
        return sorted(leaf_of[n] for n in row.notification_ids if n in leaf_of)

    records = [_crypto_record(row, scales, leaves(commands[row.key])) for row in transfers]
    records += [_settlement_record(event, kinds, scales, leaves(commands[event.command_key])) for event in settlements]
    records.sort(key=lambda record: (record["transfer"]["ledger_time"], record["transfer"]["key"]))
    return Extract(
        since,
        until,
        Table(
            "transactions",
            "Transactions",
            [_transaction(row, postings.get(row.key, []), leaves(row)) for row in reversed(accepted)],
            columns=[
                "key",
                "command_type",
                "ledger_time",
                "recorded_at",
                "clients",
                "venue",
                "postings",
                "late_by_seconds",
                "reversed_by",
                "reverses",
                "metadata",
                "leaves",
            ],
        ),
        Table(
            "rejections",
            "Rejections",
            [_rejection(row, leaves(row)) for row in reversed(refused)],
            columns=["key", "command_type", "ledger_time", "rule", "reason", "details", "clients", "venue", "leaves"],
        ),
        records,
    )


def _rows(reader: ReadModel, session: ReadSession, where: TransactionFilter) -> Iterator[TransactionRow]:
    cursor: str | None = None
    while True:
        page = reader.transactions_in(session, where, limit=PAGE, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _postings(
    reader: ReadModel, session: ReadSession, rows: list[TransactionRow], scales: dict[str, int]
) -> dict[str, list[dict[str, str]]]:
    """Each transaction's postings, from its events (amounts as decimals of their asset)."""
    found: dict[str, list[dict[str, str]]] = {}
    ids = [n for row in rows for n in row.notification_ids]
    for start in range(0, len(ids), PAGE):
        for entry in session.notifications_at(ids[start : start + PAGE]):
            event = reader.backend.mapper.to_domain_event(entry)
            if isinstance(event, LedgerTransaction):
                found.setdefault(event.command_key, []).extend(
                    {
                        "account": p.account,
                        "asset": p.asset,
                        "amount": format_amount(p.amount_minor, scale=scales[p.asset]),
                    }
                    for p in event.postings
                )
    return found


def _transaction(row: TransactionRow, postings: list[dict[str, str]], leaves: list[int]) -> dict[str, Any]:
    return {
        "key": row.key,
        "command_type": row.command_type,
        "ledger_time": row.ledger_time,
        "recorded_at": row.recorded_at,
        "clients": " ".join(row.clients),
        "venue": row.venue_id or "",
        "postings": "; ".join(f"{p['account']} {p['asset']} {p['amount']}" for p in postings),
        "late_by_seconds": row.late_by_seconds,
        "reversed_by": row.reversed_by or "",
        "reverses": row.reverses or "",
        "metadata": json.dumps(row.metadata, sort_keys=True) if row.metadata else "",
        "leaves": leaves,
    }


def _rejection(row: TransactionRow, leaves: list[int]) -> dict[str, Any]:
    return {
        "key": row.key,
        "command_type": row.command_type,
        "ledger_time": row.ledger_time,
        "rule": row.rule,
        "reason": row.reason,
        "details": json.dumps(row.details, sort_keys=True) if row.details else "",
        "clients": " ".join(row.clients),
        "venue": row.venue_id or "",
        "leaves": leaves,
    }


# IVMS101's JSON.

_SPECIAL_KEYS = {"beneficiary_vasp": "beneficiaryVASP", "originating_vasp": "originatingVASP"}


def ivms101_json(payload: Any) -> Any:
    """The ledger's IVMS101 model (snake case, `domain.ivms101`) in IVMS101's own
    JSON: lowerCamelCase keys, and each name as IVMS101's `nameIdentifier` list."""
    if isinstance(payload, list):
        return [ivms101_json(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    converted = {}
    for key, value in payload.items():
        if key == "name" and isinstance(value, dict):
            converted["name"] = {"nameIdentifier": [ivms101_json(value)]}
        else:
            converted[_camel(key)] = ivms101_json(value)
    return converted


def _camel(key: str) -> str:
    if key in _SPECIAL_KEYS:
        return _SPECIAL_KEYS[key]
    first, *rest = key.split("_")
    return first + "".join(part.title() for part in rest)


def _crypto_record(row: Any, scales: dict[str, int], leaves: list[int]) -> dict[str, Any]:
    return {
        "transfer": {
            "key": row.key,
            "kind": "crypto_withdrawal",
            "ledger_time": row.day,
            "client_id": row.client_id,
            "asset": row.asset,
            "amount": format_amount(int(row.amount_minor), scale=scales[row.asset]),
            "wallet_address": row.wallet_address,
            "self_hosted": bool(row.self_hosted),
            "leaves": leaves,
        },
        "ivms101": ivms101_json(json.loads(row.ivms101)),
    }


def _settlement_record(
    event: SettlementInitiated, kinds: dict[str, str], scales: dict[str, int], leaves: list[int]
) -> dict[str, Any]:
    natural = kinds.get(event.client_id) in NATURAL_KINDS
    return {
        "transfer": {
            "key": event.command_key,
            "kind": "settlement",
            "ledger_time": event.ledger_time.isoformat(),
            "settlement_id": event.settlement_id,
            "client_id": event.client_id,
            "asset": event.asset_code,
            "amount": format_amount(event.amount_minor, scale=scales[event.asset_code]),
            "counterparty": event.counterparty,
            "country": event.country,
            "travel_rule_complete": event.travel_rule_complete,
            "originator_missing": event.originator.missing(),
            "beneficiary_missing": event.beneficiary.missing(),
            "leaves": leaves,
        },
        "ivms101": {
            "originator": _party("originatorPersons", event.originator, natural),
            "beneficiary": _party("beneficiaryPersons", event.beneficiary, natural=False),
        },
    }


def _party(persons: str, info: PartyInfo, natural: bool) -> dict[str, Any]:
    party: dict[str, Any] = {persons: [_person(info, natural)]}
    if info.account:
        party["accountNumber"] = [info.account]
    return party


def _person(info: PartyInfo, natural: bool) -> dict[str, Any]:
    """A settlement's party data as an IVMS101 person (natural for an individual client, legal otherwise)."""
    person: dict[str, Any] = {}
    if info.name:
        identifier = (
            {"primaryIdentifier": info.name, "nameIdentifierType": "LEGL"}
            if natural
            else {"legalPersonName": info.name, "legalPersonNameIdentifierType": "LEGL"}
        )
        person["name"] = {"nameIdentifier": [identifier]}
    if info.address:
        person["geographicAddress"] = [
            {
                "addressType": "GEOG",
                "addressLine": [info.address],
                **({"country": info.country} if info.country else {}),
            }
        ]
    if info.national_id:
        person["nationalIdentification"] = {"nationalIdentifier": info.national_id, "nationalIdentifierType": "MISC"}
    if info.customer_id:
        person["customerIdentification" if natural else "customerNumber"] = info.customer_id
    if natural and info.birth_date and info.birth_place:
        person["dateAndPlaceOfBirth"] = {"dateOfBirth": info.birth_date.isoformat(), "placeOfBirth": info.birth_place}
    if info.country:
        person["countryOfResidence" if natural else "countryOfRegistration"] = info.country
    return {"naturalPerson" if natural else "legalPerson": person}
