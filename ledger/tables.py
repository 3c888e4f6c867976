"""The store's own tables beside the library's: the views, the audit log, snapshots, tracking names.

Portable DDL: the same statements on SQLite and PostgreSQL. Amounts are
decimal text of minor units (they exceed 64-bit integers). Kept apart from
the code that writes them so that the schema and the read side can name
them without importing the projector or the domain's events.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    # A client's lifecycle beyond its KYC status (`view_clients.kyc`): the
    # first day its verification no longer holds, why it is frozen (empty:
    # it is not), the day it was offboarded. A row once anything of these happened.
    "view_client_status": "client_id TEXT PRIMARY KEY, kyc_expires_on TEXT, frozen_reason TEXT, offboarded_on TEXT",
    # Every change of a lifecycle, in log order: a client's KYC, freeze and
    # offboarding, an issuer's licence, a settlement falling overdue and its
    # deadline extended (`reason` the reason or the permit; `detail` the
    # expiry or the deadline concerned).
    "view_lifecycle": "event_id BIGINT PRIMARY KEY, day TEXT NOT NULL, subject TEXT NOT NULL, "
    "subject_id TEXT NOT NULL, change TEXT NOT NULL, reason TEXT, detail TEXT",
    # Each reversal beside its original: both keys, the kind and day of the
    # original, the correction's reason and reference.
    "view_reversals": "original_key TEXT PRIMARY KEY, reversal_key TEXT NOT NULL UNIQUE, "
    "original_type TEXT NOT NULL, original_day TEXT NOT NULL, day TEXT NOT NULL, reason TEXT NOT NULL, "
    "reference TEXT NOT NULL",
    "view_aml": "notice_id TEXT PRIMARY KEY, day TEXT NOT NULL, client_id TEXT NOT NULL, "
    "operation TEXT NOT NULL, asset TEXT NOT NULL, amount_minor TEXT NOT NULL, value_byn TEXT NOT NULL, "
    "threshold_byn TEXT NOT NULL, operations TEXT NOT NULL DEFAULT ''",
    # Crypto withdrawals that carried travel-rule data (IVMS101, as JSON text).
    "view_crypto_transfers": "key TEXT PRIMARY KEY, position BIGINT NOT NULL, day TEXT NOT NULL, "
    "client_id TEXT NOT NULL, asset TEXT NOT NULL, amount_minor TEXT NOT NULL, wallet_address TEXT, "
    "self_hosted INTEGER NOT NULL, ivms101 TEXT NOT NULL",
    "view_ledger_time": "singleton INTEGER PRIMARY KEY, ledger_time TEXT NOT NULL",
    "view_bank": "singleton INTEGER PRIMARY KEY, name TEXT NOT NULL, htp_resident INTEGER NOT NULL, "
    "nbrb_register_entry TEXT NOT NULL",
    # The commands recorded late (back-dated inside the window): how far
    # their ledger time was behind the ledger's when they were recorded.
    "view_late": "key TEXT PRIMARY KEY, position BIGINT NOT NULL, late_by_seconds BIGINT NOT NULL",
    "view_trades": "venue_id TEXT NOT NULL, base_asset TEXT NOT NULL, quote_asset TEXT NOT NULL, "
    "trades INTEGER NOT NULL, base_volume_minor TEXT NOT NULL, quote_volume_minor TEXT NOT NULL, "
    "fees_minor TEXT NOT NULL, PRIMARY KEY (venue_id, base_asset, quote_asset)",
    # One row per command that wrote events (see ledger.transaction_view).
    # `position` is the log position of its first event, the order of pages;
    # times are RFC 3339 UTC text of fixed width, so that text order is time
    # order; lists and maps are JSON text.
    "view_transactions": "key TEXT PRIMARY KEY, position BIGINT NOT NULL UNIQUE, command_type TEXT NOT NULL, "
    "status TEXT NOT NULL, rule TEXT, reason TEXT, details TEXT, venue_id TEXT, ledger_time TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL, metadata TEXT NOT NULL, clients TEXT NOT NULL, accounts TEXT NOT NULL, "
    "assets TEXT NOT NULL, notification_ids TEXT NOT NULL",
    # The many-valued filters of the transactions: each key leads with the
    # value filtered on and ends with the position, so that a page is read
    # from the newest matching entry back, whatever the log's length.
    "view_transaction_clients": "client_id TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (client_id, position)",
    "view_transaction_accounts": "account TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (account, position)",
    "view_transaction_assets": "asset TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (asset, position)",
    "view_transaction_metadata": "name TEXT NOT NULL, value TEXT NOT NULL, position BIGINT NOT NULL, "
    "PRIMARY KEY (name, value, position)",
}
# SQLite keeps these in their primary key's B-tree alone (WITHOUT ROWID): one
# B-tree a row, not two, on the write path. (PostgreSQL has no such tables.)
SQLITE_WITHOUT_ROWID = frozenset(
    {"view_transaction_clients", "view_transaction_accounts", "view_transaction_assets", "view_transaction_metadata"}
)
# The single-valued filters of the transactions, each an index that ends with
# the position. Those of values most rows lack are partial: an accepted
# transaction adds nothing to them.
VIEW_INDEXES: dict[str, str] = {
    "view_transactions_by_type": "view_transactions (command_type, position)",
    "view_transactions_by_ledger_time": "view_transactions (ledger_time, position)",
    "view_transactions_rejected": "view_transactions (position) WHERE status = 'rejected'",
    "view_transactions_by_rule": "view_transactions (rule, position) WHERE rule IS NOT NULL",
    "view_transactions_by_venue": "view_transactions (venue_id, position) WHERE venue_id IS NOT NULL",
}
VIEW_ORDER: dict[str, str] = {
    "view_balances": "account, asset",
    "view_clients": "client_id",
    "view_venues": "venue_id",
    "view_assets": "code",
    "view_compliance": "day, rule, client_id, venue_id, command_type",
    "view_settlements": "settlement_id",
    "view_aml": "notice_id",
    "view_client_status": "client_id",
    "view_lifecycle": "event_id",
    "view_reversals": "original_key",
    "view_crypto_transfers": "position",
    "view_ledger_time": "singleton",
    "view_bank": "singleton",
    "view_late": "key",
    "view_trades": "venue_id, base_asset, quote_asset",
    "view_transactions": "position",
    "view_transaction_clients": "client_id, position",
    "view_transaction_accounts": "account, position",
    "view_transaction_assets": "asset, position",
    "view_transaction_metadata": "name, value, position",
}


def view_time_text(moment: datetime) -> str:
    """A time as the views store it: RFC 3339 in UTC with microseconds,
    always the same width, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def split_names(text: str) -> list[str]:
    """A list of names as the views store it, comma-separated: party ids,
    account names and asset codes are patterns without commas."""
    return text.split(",") if text else []


def create_view_statements(dialect: str) -> list[str]:
    """The views' tables and indexes, for a store of `dialect` ('sqlite' or 'postgresql')."""

    def options(table: str) -> str:
        return " WITHOUT ROWID" if dialect == "sqlite" and table in SQLITE_WITHOUT_ROWID else ""

    return [
        *(f"CREATE TABLE IF NOT EXISTS {name} ({columns}){options(name)}" for name, columns in VIEW_TABLES.items()),
        *(f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in VIEW_INDEXES.items()),
    ]


AUDIT_TABLES = {
    "audit_leaves": "leaf_index BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL, leaf_hash TEXT NOT NULL",
    "audit_tree": "singleton INTEGER PRIMARY KEY, tree_size BIGINT NOT NULL, compact_range TEXT NOT NULL",
    "audit_checkpoints": "tree_size BIGINT PRIMARY KEY, note TEXT NOT NULL, signed_at TEXT NOT NULL",
    # The full tiles of the tree (C2SP tlog-tiles, see ledger.audit.tiles):
    # 256 hashes of tree level 8 * tile_level, hex, and their Merkle root.
    "audit_tiles": "tile_level INTEGER NOT NULL, tile_index BIGINT NOT NULL, hashes TEXT NOT NULL, "
    "root TEXT NOT NULL, PRIMARY KEY (tile_level, tile_index)",
    # Witnesses' cosignature lines (C2SP tlog-cosignature) of a checkpoint, one a witness.
    "audit_cosignatures": "tree_size BIGINT NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, "
    "PRIMARY KEY (tree_size, witness)",
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
