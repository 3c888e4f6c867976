"""The HTTP service killed (SIGKILL) under concurrent load, restarted, and sent the same commands again."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.acceptance.cli import ledger
from tests.acceptance.http import SETUP, Server, api_key, deposit, events_per_key, serving

pytestmark = pytest.mark.slow

CLIENTS = 8
COMMANDS_PER_ROUND = 240
ROUNDS = 3


def keys_of(round_number: int) -> list[str]:
    return [f"r{round_number}-{n}" for n in range(COMMANDS_PER_ROUND)]


def post_until_killed(server: Server, key: str, keys: list[str], killed: threading.Event) -> dict[str, bool]:
    """Posts each key's deposit, one command a request, from several clients at
    once; the keys whose deposit was acknowledged as accepted, before the kill."""
    acknowledged: dict[str, bool] = {}

    def post(command_key: str) -> None:
        if killed.is_set():
            return
        try:
            with server.client(key, timeout=10) as client:
                response = client.post("/v1/commands", json=deposit(command_key, "0.01"))
        except httpx.HTTPError:
            return  # the server died under this request: not acknowledged
        if response.status_code == 200:
            acknowledged[command_key] = response.json()["status"] == "accepted"

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(post, keys))
    return acknowledged


def kill(server: Server, killed: threading.Event) -> None:
    killed.set()
    server.process.kill()


def resubmitted(server: Server, key: str, keys: list[str]) -> dict[str, dict[str, object]]:
    with server.client(key) as client:
        return {k: client.post("/v1/commands", json=deposit(k, "0.01")).json() for k in keys}


def kill_and_resubmit(home: Path, key: str, database_url: str | None, seed: int) -> None:
    chance = random.Random(seed)  # when to kill
    partial_rounds = 0
    with serving(home, database_url=database_url) as server, server.client(key) as client:
        assert client.post("/v1/commands", json=SETUP).status_code == 200
    for round_number in range(ROUNDS):
        keys = keys_of(round_number)
        killed = threading.Event()
        with serving(home, "--quiet", database_url=database_url) as server:
            killer = threading.Timer(chance.uniform(0.05, 0.6), kill, (server, killed))
            killer.start()
            acknowledged = post_until_killed(server, key, keys, killed)
            killer.join()
            server.process.wait(30)
        assert all(acknowledged.values()), "every deposit of this load is valid"
        partial_rounds += 0 < len(acknowledged) < len(keys)
        with serving(home, database_url=database_url) as server:
            again = resubmitted(server, key, keys)
        for command_key, result in again.items():
            assert result["status"] == "accepted", result
            if command_key in acknowledged:
                assert result["repeated"] is True, f"{command_key} was acknowledged, then stored again"
    with serving(home, database_url=database_url) as server, server.client(key) as client:
        counts = events_per_key(client)
        balances = {(r["account"], r["asset"]): r["amount"] for r in client.get("/v1/balances").json()}
    assert partial_rounds, "no kill fell in the middle of the load"
    expected = [k for n in range(ROUNDS) for k in keys_of(n)]
    assert counts == dict.fromkeys(expected, 1)
    assert balances[("client:alesia", "BYN")] == f"{len(expected) * 0.01:.2f}"


def test_a_server_killed_under_load_and_restarted_stores_every_acknowledged_command_exactly_once(home: Path) -> None:
    kill_and_resubmit(home, api_key(home, "operator"), None, seed=13)


@pytest.mark.postgres
def test_on_postgresql_a_server_killed_under_load_stores_every_acknowledged_command_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    home = tmp_path / "sandbox"
    made = ledger("init", "--home", str(home), "--database-url", postgres_url, "--sandbox-key")
    assert made.returncode == 0, made.stderr
    kill_and_resubmit(home, api_key(home, "operator", postgres_url), postgres_url, seed=13)
