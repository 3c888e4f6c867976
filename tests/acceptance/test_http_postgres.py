"""The HTTP service on PostgreSQL: one server, and two servers on one schema acting as one ledger."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from tests.acceptance.cli import ledger
from tests.acceptance.http import SETUP, api_key, deposit, events_per_key, serving

pytestmark = pytest.mark.postgres

WORLD = [
    *SETUP,
    {"type": "register_asset", "key": "usdt", "code": "USDT", "scale": 6, "kind": "crypto"},
    {"type": "list_venue", "key": "v", "venue_id": "minsk-htp", "name": "Minsk HTP", "kind": "htp_platform",
     "assets": ["BYN", "USDT"]},
    {"type": "onboard_client", "key": "n", "client_id": "nord", "name": "Nord JSC", "residency": "resident",
     "kind": "company"},
    {"type": "verify_kyc", "key": "nk", "client_id": "nord"},
    deposit("a-funds", "100.00"),
    {"type": "deposit", "key": "n-usdt", "client_id": "nord", "asset": "USDT", "amount": "100", "reference": "r"},
]  # fmt: skip


def trade(key: str) -> dict[str, object]:
    return {"type": "execute_trade", "key": key, "venue_id": "minsk-htp", "buyer_client_id": "alesia",
            "seller_client_id": "nord", "base_asset": "USDT", "base_amount": "1", "quote_asset": "BYN",
            "quote_amount": "3.25"}  # fmt: skip


@pytest.fixture
def pg_home(tmp_path: Path, postgres_url: str) -> Path:
    home = tmp_path / "sandbox"
    made = ledger("init", "--home", str(home), "--database-url", postgres_url, "--sandbox-key")
    assert made.returncode == 0, made.stderr
    return home


def test_a_server_on_postgresql_takes_commands_and_reads_them_back(pg_home: Path, postgres_url: str) -> None:
    key = api_key(pg_home, "operator", postgres_url)
    with serving(pg_home, database_url=postgres_url) as server, server.client(key) as client:
        assert client.post("/v1/commands", json=WORLD).status_code == 200
        assert client.post("/v1/commands", json=trade("t1")).json()["status"] == "accepted"
        balances = {(r["account"], r["asset"]): r["amount"] for r in client.get("/v1/balances").json()}
    assert balances[("client:alesia", "USDT")] == "1.000000"


def test_two_servers_on_one_schema_act_as_one_ledger(pg_home: Path, postgres_url: str) -> None:
    """A venue delisted through one server is refused by the other at once, and
    commands posted concurrently through both are each applied exactly once."""
    key = api_key(pg_home, "operator", postgres_url)
    with serving(pg_home, database_url=postgres_url) as first, serving(pg_home, database_url=postgres_url) as second:
        with first.client(key) as one, second.client(key) as other:
            assert one.post("/v1/commands", json=WORLD).status_code == 200
            assert other.post("/v1/commands", json=trade("t1")).json()["status"] == "accepted"
            delisted = one.post(
                "/v1/commands", json={"type": "delist_venue", "key": "d", "venue_id": "minsk-htp", "reason": "r"}
            )
            assert delisted.json()["status"] == "accepted"
            refused = other.post("/v1/commands", json=trade("t2")).json()
            assert (refused["status"], refused["rule"]) == ("rejected", "VENUE_NOT_LISTED")
            reset = one.post("/v1/sandbox/reset")
            assert reset.status_code == 409, reset.text
            assert reset.json()["type"] == "/problems/store-served"

        def post(n: int) -> int:
            server = (first, second)[n % 2]
            with server.client(key) as client:
                body = deposit(f"c{n % 150}", "0.01")  # every key twice, through either server
                return client.post("/v1/commands", json=body).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(post, range(300)))
        assert statuses == [200] * 300
        with first.client(key) as client:
            balances = {(r["account"], r["asset"]): r["amount"] for r in client.get("/v1/balances").json()}
            stored = events_per_key(client)
    assert {k: v for k, v in stored.items() if k.startswith("c")} == {f"c{n}": 1 for n in range(150)}
    assert balances[("client:alesia", "BYN")] == f"{100 - 3.25 + 1.50:.2f}"
    listed = json.loads(ledger("balances", "--home", str(pg_home), "--database-url", postgres_url, "--json").stdout)
    assert {"account": "client:alesia", "asset": "BYN", "amount": "98.25"} in listed


def test_connections_the_database_dropped_cost_no_request_a_failure(pg_home: Path, postgres_url: str) -> None:
    """Every pooled connection of the server is ended by PostgreSQL (as a
    restart or an idle timeout would); the next requests are all served."""
    name = f"ledger-{uuid4().hex[:12]}"
    url = f"{postgres_url}&application_name={name}"
    key = api_key(pg_home, "operator", url)
    with serving(pg_home, database_url=url) as server, server.client(key) as client:
        assert client.post("/v1/commands", json=WORLD).status_code == 200
        assert client.get("/v1/balances").status_code == 200
        with psycopg.connect(postgres_url.partition("?")[0], autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone()
        assert ended is not None
        assert ended[0] >= 1
        statuses = [client.post("/v1/commands", json=deposit(f"after-{n}", "0.01")).status_code for n in range(3)]
        statuses += [client.get("/v1/balances").status_code for _ in range(3)]
        assert statuses == [200] * 6
        assert serving_lock_taken_again(postgres_url, name), "a reset could now replace the store under the server"
    assert "Traceback" not in server.stderr.read_text()


def serving_lock_taken_again(postgres_url: str, application_name: str, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    with psycopg.connect(postgres_url.partition("?")[0], autocommit=True) as admin:
        while time.monotonic() < deadline:
            (held,) = admin.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
                "WHERE locktype = 'advisory' AND application_name = %s",
                (application_name,),
            ).fetchone() or (0,)
            if held:
                return True
            time.sleep(0.2)
    return False
