"""Least privilege on PostgreSQL: an owner that migrates, a runtime role that cannot rewrite history.

The owner (the user `ledger init` and `ledger migrate` connect as, or the
role named with `--owner-role`) owns the schema, its tables and its guards,
and alone writes the bank's identity and the decision state's snapshots.
The runtime role, which the service connects as, may read everything, append
to history (events, idempotency keys, audit leaves and checkpoints) and keep
its own tables (views, tracking, the audit tree); it owns nothing,
so PostgreSQL itself refuses it UPDATE, DELETE and TRUNCATE on history, ALTER
and DROP of any table, DROP or DISABLE of the guards' triggers, and (being no
superuser) `session_replication_role`, which would switch triggers off.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

from ledger.tables import API_KEYS_TABLE, AUDIT_TABLES, SNAPSHOTS_TABLE, STORE_TABLE, VIEW_TABLES

TRACKING_TABLE = "ledger_tracking"
EVENTS_SEQUENCE = "ledger_events_notification_id_seq"
HISTORY = (
    "ledger_events",
    "ledger_commands",
    "audit_leaves",
    "audit_checkpoints",
    "audit_tiles",
    "audit_cosignatures",
)
KEPT = (*VIEW_TABLES, TRACKING_TABLE, "audit_tree")
# Read only: the bank's identity, and the snapshots a writer opens from (a
# role that could write them could hand every writer a decision state the log
# never produced; they are taken by the owner, `ledger snapshot` or a writer
# connected as the owner).
# The service reads its bearer keys; only the owner (`ledger api-key`) makes or revokes them.
READ_ONLY = (STORE_TABLE, SNAPSHOTS_TABLE, API_KEYS_TABLE)
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
        sql.SQL("GRANT SELECT ON {} TO {}").format(tables(READ_ONLY), r),
        sql.SQL("GRANT USAGE ON SEQUENCE {}.{} TO {}").format(s, sql.Identifier(EVENTS_SEQUENCE), r),
    ]
    if create:
        statements.insert(0, sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(r))
    return statements


def owner_role_statements(
    schema: str, role: str, objects: list[tuple[str, str]], *, create: bool = True
) -> list[sql.Composed]:
    """The SQL that hands `schema` and its objects, (kind, name) pairs, to `role`."""
    s, r = sql.Identifier(schema), sql.Identifier(role)
    statements = [sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(s, r)]
    if create:
        statements.insert(0, sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(r))
    for kind, name in objects:
        statements.append(sql.SQL("ALTER {} {}.{} OWNER TO {}").format(sql.SQL(kind), s, sql.SQL(name), r))
    return statements


def role_statements(connection: Connection[Any], schema: str, *, runtime: str | None, owner: str | None) -> list[str]:
    """The statements that set up the roles asked for on `schema`, as text,
    for roles that do not exist yet as for those that do."""
    statements: list[sql.Composed] = []
    if owner is not None:
        objects = _owned_objects(connection, schema)
        statements += owner_role_statements(schema, owner, objects, create=not _role_exists(connection, owner))
    if runtime is not None:
        statements += runtime_role_statements(schema, runtime, create=not _role_exists(connection, runtime))
    return [statement.as_string(connection) for statement in statements]


def _role_exists(connection: Connection[Any], role: str) -> bool:
    return connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def _owned_objects(connection: Connection[Any], schema: str) -> list[tuple[str, str]]:
    """The schema's tables, functions and types (sequences go with their tables)."""
    rows = connection.execute(
        "SELECT 'TABLE', quote_ident(relname) FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r' "
        "UNION ALL SELECT 'FUNCTION', quote_ident(proname) || '(' || pg_get_function_identity_arguments(oid) || ')' "
        "FROM pg_proc WHERE pronamespace = %s::regnamespace "
        "UNION ALL SELECT 'TYPE', quote_ident(typname) FROM pg_type t WHERE typnamespace = %s::regnamespace "
        "AND typtype = 'c' AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c') "
        "ORDER BY 1, 2",
        (schema, schema, schema),
    ).fetchall()
    return [(str(kind), str(name)) for kind, name in rows]
