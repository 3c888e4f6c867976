"""Least privilege on PostgreSQL: an owner that migrates, a runtime role that cannot rewrite history.

The owner (the user `ledger init` and `ledger migrate` connect as, or the
role named with `--owner-role`) owns the schema, its tables and its guards.
The runtime role, which the service connects as, may read everything, append
to history (events, idempotency keys, audit leaves and checkpoints) and keep
its own tables (views, tracking, the audit tree, snapshots); it owns nothing,
so PostgreSQL itself refuses it UPDATE, DELETE and TRUNCATE on history, ALTER
and DROP of any table, DROP or DISABLE of the guards' triggers, and (being no
superuser) `session_replication_role`, which would switch triggers off.
"""

from __future__ import annotations

from psycopg import sql

from ledger.tables import AUDIT_TABLES, SNAPSHOTS_TABLE, VIEW_TABLES

STORE_TABLE = "ledger_store"
EVENTS_TABLE = "ledger_events"
TRACKING_TABLE = "ledger_tracking"
EVENTS_SEQUENCE = "ledger_events_notification_id_seq"
HISTORY = ("ledger_events", "ledger_commands", "audit_leaves", "audit_checkpoints")
KEPT = (*VIEW_TABLES, TRACKING_TABLE, "audit_tree", SNAPSHOTS_TABLE)
assert set(AUDIT_TABLES) <= {*HISTORY, *KEPT}, AUDIT_TABLES


def runtime_role_statements(schema: str, role: str, *, create: bool = True) -> list[sql.Composed]:
    """The SQL that gives `role` exactly the runtime's privileges on `schema`."""
    s, r = sql.Identifier(schema), sql.Identifier(role)

    def tables(names: tuple[str, ...]) -> sql.Composed:
        return sql.SQL(", ").join(sql.SQL("{}.{}").format(s, sql.Identifier(name)) for name in names)

    statements = [
        sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(s),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(tables(HISTORY), r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(tables(KEPT), r),
        sql.SQL("GRANT SELECT ON {}.{} TO {}").format(s, sql.Identifier(STORE_TABLE), r),
        sql.SQL("GRANT USAGE ON SEQUENCE {}.{} TO {}").format(s, sql.Identifier(EVENTS_SEQUENCE), r),
    ]
    if create:
        statements.insert(0, sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(r))
    return statements


def owner_role_statements(schema: str, role: str, objects: list[tuple[str, str]]) -> list[sql.Composed]:
    """The SQL that hands `schema` and its objects, (kind, name) pairs, to `role`."""
    s, r = sql.Identifier(schema), sql.Identifier(role)
    statements = [
        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(r),
        sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(s, r),
    ]
    for kind, name in objects:
        statements.append(sql.SQL("ALTER {} {}.{} OWNER TO {}").format(sql.SQL(kind), s, sql.SQL(name), r))
    return statements
