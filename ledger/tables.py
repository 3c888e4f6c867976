"""The store's own tables beside the library's: the views, the audit log, snapshots, tracking names.

Portable DDL: the same statements on SQLite and PostgreSQL. Amounts are
decimal text of minor units (they exceed 64-bit integers). Kept apart from
the code that writes them so that the schema and the read side can name
them without importing the projector or the domain's events.
"""

from __future__ import annotations

STORE_TABLE = "ledger_store"  # what the store records about itself (see ledger.store.schema)
VIEWS_TRACKING_NAME = "ledger-views"
AUDIT_TRACKING_NAME = "ledger-audit"

VIEW_TABLES: dict[str, str] = {
    "view_balances": "account TEXT NOT NULL, asset TEXT NOT NULL, amount_minor TEXT NOT NULL, "
    "PRIMARY KEY (account, asset)",
    "view_clients": "client_id TEXT PRIMARY KEY, name TEXT NOT NULL, residency TEXT NOT NULL, "
    "kind TEXT NOT NULL, kyc TEXT NOT NULL",
    "view_venues": "venue_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
    "domestic INTEGER NOT NULL, listed INTEGER NOT NULL, assets TEXT NOT NULL",
    "view_assets": "code TEXT PRIMARY KEY, scale INTEGER NOT NULL, kind TEXT NOT NULL, issuer_id TEXT, "
    "cap_minor TEXT, supply_minor TEXT NOT NULL",
    "view_compliance": "day TEXT NOT NULL, rule TEXT NOT NULL, client_id TEXT NOT NULL, "
    "venue_id TEXT NOT NULL, command_type TEXT NOT NULL, rejections INTEGER NOT NULL, "
    "PRIMARY KEY (day, rule, client_id, venue_id, command_type)",
    "view_settlements": "settlement_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, direction TEXT NOT NULL, "
    "counterparty TEXT NOT NULL, country TEXT NOT NULL, contract_reference TEXT NOT NULL, "
    "asset TEXT NOT NULL, "
    "sent_minor TEXT NOT NULL, returned_minor TEXT NOT NULL, delivered_minor TEXT NOT NULL, "
    "status TEXT NOT NULL, initiated_on TEXT NOT NULL, deadline TEXT NOT NULL, overdue_on TEXT, "
    "value_byn TEXT, travel_rule_complete INTEGER NOT NULL",
    "view_aml": "notice_id TEXT PRIMARY KEY, day TEXT NOT NULL, client_id TEXT NOT NULL, "
    "operation TEXT NOT NULL, asset TEXT NOT NULL, amount_minor TEXT NOT NULL, value_byn TEXT NOT NULL, "
    "threshold_byn TEXT NOT NULL",
    "view_ledger_time": "singleton INTEGER PRIMARY KEY, ledger_time TEXT NOT NULL",
    "view_bank": "singleton INTEGER PRIMARY KEY, name TEXT NOT NULL, htp_resident INTEGER NOT NULL, "
    "nbrb_register_entry TEXT NOT NULL",
    "view_trades": "venue_id TEXT NOT NULL, base_asset TEXT NOT NULL, quote_asset TEXT NOT NULL, "
    "trades INTEGER NOT NULL, base_volume_minor TEXT NOT NULL, quote_volume_minor TEXT NOT NULL, "
    "fees_minor TEXT NOT NULL, PRIMARY KEY (venue_id, base_asset, quote_asset)",
}
VIEW_ORDER: dict[str, str] = {
    "view_balances": "account, asset",
    "view_clients": "client_id",
    "view_venues": "venue_id",
    "view_assets": "code",
    "view_compliance": "day, rule, client_id, venue_id, command_type",
    "view_settlements": "settlement_id",
    "view_aml": "notice_id",
    "view_ledger_time": "singleton",
    "view_bank": "singleton",
    "view_trades": "venue_id, base_asset, quote_asset",
}


def create_view_statements() -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {name} ({columns})" for name, columns in VIEW_TABLES.items()]


AUDIT_TABLES = {
    "audit_leaves": "leaf_index BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL, leaf_hash TEXT NOT NULL",
    "audit_tree": "singleton INTEGER PRIMARY KEY, tree_size BIGINT NOT NULL, compact_range TEXT NOT NULL",
    "audit_checkpoints": "tree_size BIGINT PRIMARY KEY, note TEXT NOT NULL, signed_at TEXT NOT NULL",
}

# Bearer keys of the HTTP service: the secret's SHA-256 only (the secret is
# 256 random bits, printed once), its role, and when it was revoked.
API_KEYS_TABLE = "ledger_api_keys"
API_KEYS_COLUMNS = (
    "key_id TEXT PRIMARY KEY, role TEXT NOT NULL, secret_sha256 TEXT NOT NULL, label TEXT NOT NULL, "
    "created_at TEXT NOT NULL, revoked_at TEXT"
)

SNAPSHOTS_TABLE = "ledger_snapshots"
SNAPSHOTS_COLUMNS = (
    "position BIGINT PRIMARY KEY, format INTEGER NOT NULL, digest TEXT NOT NULL, "
    "taken_at TEXT NOT NULL, state TEXT NOT NULL"
)
