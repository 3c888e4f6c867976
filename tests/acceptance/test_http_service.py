"""The HTTP service, end to end: a real `ledger serve` process on a free port, a real HTTP client."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from tests.acceptance.browser import render
from tests.acceptance.cli import ledger
from tests.acceptance.http import SETUP, Server, api_key, deposit, events_per_key, serving


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    with serving(home) as running:
        yield running


@pytest.fixture
def operator(home: Path) -> str:
    return api_key(home, "operator")


@pytest.fixture
def ready(server: Server, operator: str) -> Iterator[httpx.Client]:
    """An operator's client of a server whose sandbox has a client, Alesia, and the BYN."""
    with server.client(operator) as client:
        response = client.post("/v1/commands", json=SETUP)
        assert response.status_code == 200, response.text
        yield client


def log_position(server: Server) -> int:
    with server.client() as client:
        return int(client.get("/v1/health").json()["log_position"])


def test_the_openapi_document_is_valid_openapi_3_1_made_from_the_command_models(server: Server) -> None:
    with server.client() as client:
        document = client.get("/openapi.json").json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    contract = {"/v1/commands", "/v1/balances", "/v1/transactions", "/v1/transactions/{key}", "/v1/events",
                "/v1/events/stream", "/v1/reports/compliance", "/v1/reports/settlements", "/v1/sandbox/reset",
                "/v1/sandbox/clock", "/v1/clients"}  # fmt: skip
    assert contract <= set(document["paths"])
    assert "Deposit" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_a_command_is_accepted_and_its_repeat_with_the_same_idempotency_key_returns_the_first_result(
    ready: httpx.Client, server: Server
) -> None:
    command = {k: v for k, v in deposit("unused").items() if k != "key"}
    first = ready.post("/v1/commands", json=command, headers={"Idempotency-Key": "dep-1"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted"
    assert first.json()["key"] == "dep-1"
    assert "Idempotent-Replayed" not in first.headers
    position = log_position(server)

    again = ready.post("/v1/commands", json=command, headers={"Idempotency-Key": "dep-1"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "repeated": True}
    assert log_position(server) == position


def test_the_same_idempotency_key_with_another_body_is_a_conflict_naming_both_digests_and_writes_nothing(
    ready: httpx.Client, server: Server
) -> None:
    ready.post("/v1/commands", json=deposit("dep-1", "1.00"))
    position = log_position(server)
    conflict = ready.post("/v1/commands", json=deposit("dep-1", "2.00"))
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    problem = conflict.json()
    assert problem["type"] == "/problems/idempotency-conflict"
    assert problem["first_digest"] != problem["digest"]
    assert problem["first_digest"] in problem["detail"]
    assert log_position(server) == position


def test_a_refusal_by_rule_is_a_result_with_the_rule_code(ready: httpx.Client) -> None:
    response = ready.post(
        "/v1/commands",
        json={
            "type": "withdraw",
            "key": "w",
            "client_id": "alesia",
            "asset": "BYN",
            "amount": "5.00",
            "reference": "r",
        },
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["rule"] == "INSUFFICIENT_FUNDS"


def test_an_invalid_command_in_a_batch_is_a_problem_naming_its_position_and_field_and_writes_nothing(
    ready: httpx.Client, server: Server
) -> None:
    position = log_position(server)
    bad = {**deposit("d2"), "amount": 12}
    response = ready.post("/v1/commands", json=[deposit("d1"), bad, deposit("d3")])
    assert response.status_code == 422
    problem = response.json()
    assert problem["position"] == 1
    assert problem["field"] == "amount"
    assert "command 1, amount" in problem["detail"]
    assert log_position(server) == position


def test_a_command_the_ledger_finds_invalid_names_its_position_and_writes_nothing(
    ready: httpx.Client, server: Server
) -> None:
    position = log_position(server)
    unknown = {**deposit("d2"), "asset": "EUR"}
    response = ready.post("/v1/commands", json=[deposit("d1"), unknown])
    assert response.status_code == 422
    assert response.json()["position"] == 1
    assert "unknown asset 'EUR'" in response.json()["detail"]
    assert log_position(server) == position


def test_a_refused_command_carries_the_code_of_its_error_kind(ready: httpx.Client, server: Server) -> None:
    position = log_position(server)
    negative = ready.post("/v1/commands", json={**deposit("d-zero"), "amount": "0.00"})
    assert negative.status_code == 422
    assert negative.json()["code"] == "AMOUNT_NOT_POSITIVE"
    unknown = ready.post("/v1/commands", json=[deposit("d1"), {**deposit("d2"), "asset": "EUR"}])
    assert (unknown.json()["position"], unknown.json()["code"]) == (1, "UNKNOWN_ASSET")
    malformed = ready.post("/v1/commands", json={**deposit("d3"), "amount": 12})
    assert malformed.json()["code"] == "INVALID_INPUT"
    assert log_position(server) == position


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'{"type": "deposit",', "malformed-json"),
        (b"\xff\xfe", "malformed-json"),
        (b'"deposit"', "not-a-command"),
        (b"[]", "empty-batch"),
    ],
)
def test_a_body_that_is_not_commands_is_a_bad_request_problem(ready: httpx.Client, body: bytes, kind: str) -> None:
    response = ready.post("/v1/commands", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"] == f"/problems/{kind}"


def test_an_idempotency_key_header_that_differs_from_the_commands_key_is_refused(ready: httpx.Client) -> None:
    response = ready.post("/v1/commands", json=deposit("d1"), headers={"Idempotency-Key": "other"})
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/idempotency-key-mismatch"


def test_a_body_declared_as_a_form_is_refused_with_415_and_writes_nothing(ready: httpx.Client, server: Server) -> None:
    position = log_position(server)
    body = json.dumps(deposit("d-form")).encode()
    response = ready.post("/v1/commands", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media-type"
    assert "application/json" in response.json()["detail"]
    assert log_position(server) == position
    declared = ready.post("/v1/commands", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    undeclared = ready.post("/v1/commands", content=json.dumps(deposit("d-bare")).encode())
    assert (declared.status_code, undeclared.status_code) == (200, 200)


def test_a_method_a_path_does_not_take_is_answered_with_405_and_the_methods_it_does(ready: httpx.Client) -> None:
    response = ready.get("/v1/commands")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/problem+json"


def test_limits_on_body_size_and_batch_size_are_answered_with_413(ready: httpx.Client, server: Server) -> None:
    position = log_position(server)
    too_many = ready.post("/v1/commands", json=[deposit(f"d{i}") for i in range(1001)])
    assert too_many.status_code == 413
    assert "at most 1000" in too_many.json()["detail"]
    huge = ready.post("/v1/commands", content=b"[" + b" " * (1024 * 1024) + b"]")
    assert huge.status_code == 413
    assert huge.json()["type"] == "/problems/body-too-large"
    assert log_position(server) == position


def test_the_auth_matrix_401_without_a_valid_key_403_for_the_wrong_role_and_nothing_written(
    home: Path, ready: httpx.Client, server: Server
) -> None:
    viewer, supervisor = api_key(home, "viewer"), api_key(home, "supervisor")
    position = log_position(server)
    for key, expected in ((None, 401), ("ledger_000000000000_" + "x" * 43, 401), ("nonsense", 401)):
        with server.client(key) as client:
            assert client.post("/v1/commands", json=deposit("x")).status_code == expected
            assert client.get("/v1/balances").status_code == expected
    for key in (viewer, supervisor):
        with server.client(key) as client:
            refused = client.post("/v1/commands", json=deposit("x"))
            assert refused.status_code == 403
            assert refused.json()["type"] == "/problems/forbidden"
            assert client.get("/v1/balances").status_code == 200
    with server.client() as anonymous:
        unauthorized = anonymous.get("/v1/balances")
    assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")
    assert log_position(server) == position


@pytest.mark.parametrize("path", ["/v1/commands", "/v1/balances"])
def test_two_authorization_headers_are_refused_whichever_comes_first(server: Server, operator: str, path: str) -> None:
    position = log_position(server)
    for keys in ((f"Bearer {operator}", "Bearer wrong"), ("Bearer wrong", f"Bearer {operator}")):
        headers = [("Authorization", keys[0]), ("Authorization", keys[1]), ("Content-Type", "application/json")]
        with httpx.Client(base_url=server.url) as client:
            if path == "/v1/commands":
                response = client.post(path, content=json.dumps(deposit("d-two-keys")).encode(), headers=headers)
            else:
                response = client.get(path, headers=headers)
        assert response.status_code == 400
        assert response.json()["type"] == "/problems/ambiguous-authorization"
    assert log_position(server) == position


def test_a_revoked_key_is_refused_within_seconds(home: Path, server: Server) -> None:
    viewer = api_key(home, "viewer")
    with server.client(viewer) as client:
        assert client.get("/v1/balances").status_code == 200
        key_id = viewer.split("_")[1]
        assert ledger("api-key", "revoke", key_id, "--home", str(home)).returncode == 0
        for _ in range(50):
            if client.get("/v1/balances").status_code == 401:
                break
            threading.Event().wait(0.1)
        else:
            pytest.fail("the revoked key is still accepted after 5 s")


def test_every_request_is_logged_as_one_json_line_with_its_key_id_and_never_the_key(home: Path, operator: str) -> None:
    # JSON since `--log-format json` (issue 17): the default is now a line of text, as every record's.
    with serving(home, env={"LEDGER_LOG_FORMAT": "json"}) as server, server.client(operator) as client:
        client.get("/v1/balances")
        server.stop()
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    balances = next(line for line in lines if line["path"] == "/v1/balances")
    assert balances["key_id"] == operator.split("_")[1]
    assert balances["status"] == 200
    assert operator.split("_", 2)[2] not in server.log()


def test_balances_and_reports_read_back_what_was_committed(ready: httpx.Client) -> None:
    ready.post("/v1/commands", json=[deposit("d1", "2.50"), deposit("d2", "1.25")])
    balances = ready.get("/v1/balances").json()
    assert {"account": "client:alesia", "asset": "BYN", "amount": "3.75", "amount_minor": "375"} in balances
    assert ready.get("/v1/reports/compliance").json()["total"] == 0
    assert "outstanding" in json.dumps(ready.get("/v1/reports/settlements").json())


def test_clients_and_reversals_read_back_with_their_lifecycle_and_links(ready: httpx.Client) -> None:
    reversal = {"type": "reverse_transaction", "key": "rev", "original_key": "d1", "reason": "x", "reference": "T-1"}
    freeze = {"type": "freeze_client", "key": "fz", "client_id": "alesia", "reason": "court order"}
    response = ready.post("/v1/commands", json=[deposit("d1", "2.50"), reversal, freeze])
    assert [result["status"] for result in response.json()["results"]] == ["accepted"] * 3, response.text
    assert ready.get("/v1/transactions/d1").json()["reversed_by"] == "rev"
    assert ready.get("/v1/transactions/rev").json()["reverses"] == "d1"
    (alesia,) = ready.get("/v1/clients").json()["items"]
    assert (alesia["client_id"], alesia["frozen"], alesia["frozen_reason"]) == ("alesia", True, "court order")
    refused = ready.post("/v1/commands", json=deposit("d2")).json()
    assert (refused["status"], refused["rule"]) == ("rejected", "CLIENT_FROZEN")


def test_concurrent_requests_share_transactions_and_every_acknowledged_command_is_stored_once(
    ready: httpx.Client, server: Server, operator: str
) -> None:
    """32 clients post 20 deposits each, one per request, a few of them invalid:
    every valid one is acknowledged and stored exactly once, each invalid one
    fails its own request only, and the writer needed far fewer transactions."""

    def client_posts(worker: int) -> list[int]:
        statuses = []
        with server.client(operator) as client:
            for n in range(20):
                body = deposit(f"w{worker}-{n}", "0.01")
                if n == 7 and worker % 4 == 0:
                    body["asset"] = "EUR"  # invalid: unknown asset
                statuses.append(client.post("/v1/commands", json=body).status_code)
        return statuses

    before = ready.get("/v1/health").json()["writer"]
    with ThreadPoolExecutor(32) as pool:
        statuses = [status for worker in pool.map(client_posts, range(32)) for status in worker]
    assert statuses.count(422) == 8
    assert statuses.count(200) == 32 * 20 - 8
    stored = events_per_key(ready)
    expected = {f"w{w}-{n}" for w in range(32) for n in range(20) if not (n == 7 and w % 4 == 0)}
    assert {key: count for key, count in stored.items() if key.startswith("w")} == dict.fromkeys(expected, 1)
    balances = {row["account"]: row["amount_minor"] for row in ready.get("/v1/balances").json()}
    assert balances["client:alesia"] == str(32 * 20 - 8)
    writer = ready.get("/v1/health").json()["writer"]
    assert writer["commands"] - before["commands"] == 32 * 20 - 8
    assert writer["transactions"] - before["transactions"] < (32 * 20 - 8) / 2  # coalesced, two or more a transaction


def test_concurrent_withdrawals_are_never_decided_on_stale_state(
    ready: httpx.Client, server: Server, operator: str
) -> None:
    ready.post("/v1/commands", json=deposit("funds", "1.00"))

    def withdraw(n: int) -> str:
        body = {"type": "withdraw", "key": f"w{n}", "client_id": "alesia", "asset": "BYN", "amount": "0.10",
                "reference": "r"}  # fmt: skip
        with server.client(operator) as client:
            return str(client.post("/v1/commands", json=body).json()["status"])

    with ThreadPoolExecutor(25) as pool:
        outcomes = list(pool.map(withdraw, range(25)))
    assert outcomes.count("accepted") == 10
    assert outcomes.count("rejected") == 15
    balances = {row["account"]: row["amount_minor"] for row in ready.get("/v1/balances").json()}
    assert balances["client:alesia"] == "0"


def test_a_graceful_shutdown_loses_nothing_acknowledged(home: Path, operator: str) -> None:
    acknowledged: list[str] = []
    with serving(home) as server:
        with server.client(operator) as client:
            assert client.post("/v1/commands", json=SETUP).status_code == 200
        stop = threading.Event()

        def keep_posting(worker: int) -> None:
            with server.client(operator, timeout=10) as client:
                for n in range(10_000):
                    if stop.is_set():
                        return
                    key = f"g{worker}-{n}"
                    try:
                        response = client.post("/v1/commands", json=deposit(key, "0.01"))
                    except httpx.HTTPError:
                        return
                    if response.status_code == 200:
                        acknowledged.append(key)

        threads = [threading.Thread(target=keep_posting, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        threading.Event().wait(1.5)
        assert server.stop() == 0
        stop.set()
        for thread in threads:
            thread.join()
    assert acknowledged
    balances = ledger("balances", "--home", str(home), "--json")
    amounts = {row["account"]: row["amount"] for row in json.loads(balances.stdout)}
    assert amounts["client:alesia"] == f"{len(acknowledged) / 100:.2f}"


def test_a_reset_starts_the_sandbox_over_and_keeps_the_api_keys(
    home: Path, ready: httpx.Client, server: Server
) -> None:
    ready.post("/v1/commands", json=deposit("d1"))
    with server.client(api_key(home, "viewer")) as viewer:
        assert viewer.post("/v1/sandbox/reset").status_code == 403
        reset = ready.post("/v1/sandbox/reset")
        assert reset.status_code == 200, reset.text
        assert reset.json()["log_position"] == 1  # the bank, established again
        assert viewer.get("/v1/balances").json() == []
    again = ready.post("/v1/commands", json=SETUP)
    assert [result["repeated"] for result in again.json()["results"]] == [False, False, False]


@pytest.mark.slow
def test_the_interactive_docs_render_every_operation_with_no_network(
    server: Server, chromium: str, tmp_path: Path
) -> None:
    dom = render(chromium, f"{server.url}/docs", tmp_path / "profile", "--dump-dom", "--virtual-time-budget=15000")
    assert dom.returncode == 0, dom.stderr
    assert "swagger-ui" in dom.stdout
    for path in ("/v1/commands", "/v1/balances", "/v1/sandbox/reset"):
        assert f'data-path="{path}"' in dom.stdout, path


def test_a_request_offering_an_h2c_upgrade_is_served_as_http_1_1_with_its_body(
    ready: httpx.Client, server: Server
) -> None:
    """Every JDK HttpClient offers `Upgrade: h2c` on a cleartext URL (uvicorn#2722 drops the body then)."""
    body = json.dumps(deposit("h2c-1")).encode()
    head = "\r\n".join(
        [
            "POST /v1/commands HTTP/1.1",
            "Host: 127.0.0.1",
            "Connection: Upgrade, HTTP2-Settings",
            "Upgrade: h2c",
            "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA",
            f"Authorization: {ready.headers['Authorization']}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
            "",
            "",
        ]
    )
    host, port = server.url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b'"status":"accepted"' in answer


@pytest.mark.skipif(shutil.which("java") is None, reason="no JDK on this machine")
def test_the_readmes_java_client_talks_to_the_service_with_the_jdks_own_http_client(home: Path, server: Server) -> None:
    client = Path(__file__).parents[2] / "scripts" / "clients" / "LedgerClient.java"
    ran = subprocess.run(
        ["java", str(client), server.url, api_key(home, "operator")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "deposit 200" in ran.stdout
    assert "repeat 200 replayed=true" in ran.stdout
    assert '"amount":"25.00"' in ran.stdout


def test_the_test_clock_is_frozen_moved_on_and_released_over_http_and_never_moves_back(ready: httpx.Client) -> None:
    frozen = ready.post("/v1/sandbox/clock", json={"frozen_at": "2027-01-01T09:00:00Z"})
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["result"]["status"] == "accepted"
    assert frozen.json()["frozen_at"] == "2027-01-01T09:00:00+00:00"
    moved = ready.post("/v1/sandbox/clock", json={"advance_seconds": 86400}, headers={"Idempotency-Key": "next-day"})
    assert moved.json()["frozen_at"] == "2027-01-02T09:00:00+00:00"
    assert ready.get("/v1/sandbox/clock").json() == {"frozen_at": "2027-01-02T09:00:00+00:00"}
    back = ready.post("/v1/sandbox/clock", json={"frozen_at": "2026-12-31T00:00:00Z"})
    assert back.status_code == 422
    assert "moves forward only" in back.json()["detail"]
    assert back.json()["code"] == "CLOCK_MOVES_FORWARD_ONLY"
    both = ready.post(
        "/v1/sandbox/clock", json={"advance_seconds": 5, "release": True}, headers={"Idempotency-Key": "b"}
    )
    assert both.status_code == 422
    unkeyed = ready.post("/v1/sandbox/clock", json={"advance_seconds": 5})
    assert unkeyed.status_code == 400
    assert unkeyed.json()["type"] == "/problems/idempotency-key-required"
    again = ready.post("/v1/sandbox/clock", json={"advance_seconds": 86400}, headers={"Idempotency-Key": "next-day"})
    assert again.json()["result"]["repeated"] is True
    assert again.json()["frozen_at"] == "2027-01-02T09:00:00+00:00"  # a retry does not move it twice
    assert ready.post("/v1/sandbox/clock", json={"release": True}).json()["frozen_at"] is None


def _raw(server: Server, request: bytes, *pieces: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        for piece in pieces:
            threading.Event().wait(0.05)
            connection.sendall(piece)
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_an_upgrade_offer_split_across_reads_and_in_mixed_case_is_still_served_with_its_body(
    ready: httpx.Client, server: Server
) -> None:
    body = json.dumps(deposit("split-1")).encode()
    head = (
        "POST /v1/commands HTTP/1.1\r\nHost: x\r\nConnection: UpGrade, close\r\nUpGrade: h2c\r\n"
        f"Authorization: {ready.headers['Authorization']}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    answer = _raw(server, head[:60], head[60:], body)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b'"status":"accepted"' in answer


def test_upgrade_text_in_a_body_is_never_rewritten_into_a_second_request(ready: httpx.Client, server: Server) -> None:
    sneaky = b'{"type": "deposit"}' + b"\r\nupgrade:" * 20
    head = (
        f"POST /v1/sandbox/reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(sneaky)}\r\n\r\n"
    ).encode()
    answer = _raw(server, head + sneaky + b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.count(b"HTTP/1.1 ") == 1
    assert answer.startswith(b"HTTP/1.1 401")


def test_a_request_head_over_64_kib_is_refused_with_431(server: Server) -> None:
    answer = _raw(server, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]


@pytest.mark.parametrize(
    "body", [b'{"type": "deposit", "amount": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000]
)
def test_json_a_parser_cannot_take_is_a_bad_request_not_a_failure(ready: httpx.Client, body: bytes) -> None:
    response = ready.post("/v1/commands", content=body)
    assert response.status_code in (400, 413)
    assert response.headers["content-type"] == "application/problem+json"


def test_other_routes_refuse_a_large_body_before_any_key_is_checked(server: Server) -> None:
    with server.client() as anonymous:
        declared = anonymous.post("/v1/sandbox/clock", content=b" " * (100 * 1024))
        streamed = anonymous.post("/v1/sandbox/clock", content=iter([b" " * 50_000, b" " * 50_000]))
    assert declared.status_code == 413
    assert streamed.status_code == 413


def test_transactions_are_read_back_filtered_by_metadata_and_paged_with_a_cursor_stable_under_appends(
    ready: httpx.Client,
) -> None:
    for n in range(5):
        body = {**deposit(f"m{n}", f"{n + 1}.00"), "metadata": {"order": f"o-{n % 2}", "batch": "b1"}}
        assert ready.post("/v1/commands", json=body).status_code == 200
    first = ready.get("/v1/transactions", params={"metadata[order]": "o-0", "limit": 2}).json()
    assert [item["key"] for item in first["items"]] == ["m4", "m2"]
    assert first["items"][0]["metadata"] == {"order": "o-0", "batch": "b1"}
    ready.post("/v1/commands", json={**deposit("m5"), "metadata": {"order": "o-0"}})  # arrives between pages
    second = ready.get(
        "/v1/transactions", params={"metadata[order]": "o-0", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert [item["key"] for item in second.json()["items"]] == ["m0"]
    assert second.json()["next_cursor"] is None
    one = ready.get("/v1/transactions/m3").json()
    assert (one["key"], one["status"]) == ("m3", "accepted")
    assert ready.get("/v1/transactions/nope").status_code == 404
    rejected = ready.get("/v1/transactions", params={"status": "rejected"}).json()
    assert rejected["items"] == []


def test_query_limits_and_bad_cursors_are_answered_with_400(ready: httpx.Client) -> None:
    assert ready.get("/v1/transactions", params={"limit": 501}).status_code == 400
    assert ready.get("/v1/events", params={"limit": 1001}).status_code == 400
    bad = ready.get("/v1/transactions", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json()["type"] == "/problems/invalid-cursor"
    made = ready.get("/v1/transactions", params={"limit": 1}).json()["next_cursor"]
    other = ready.get("/v1/transactions", params={"limit": 1, "client": "alesia", "cursor": made})
    assert other.status_code == 400


def test_metadata_beyond_its_limits_is_refused_naming_the_field(ready: httpx.Client) -> None:
    response = ready.post("/v1/commands", json={**deposit("big"), "metadata": {"k": "v" * 501}})
    assert response.status_code == 422
    assert response.json()["field"].startswith("metadata")


def test_the_event_log_is_paged_in_order(ready: httpx.Client) -> None:
    page = ready.get("/v1/events", params={"after": 0, "limit": 2}).json()
    assert [item["position"] for item in page["items"]] == [1, 2]
    following = ready.get("/v1/events", params={"after": page["next_after"], "limit": 100}).json()
    assert following["items"][0]["position"] == 3


def _sse_events(server: Server, key: str, count: int, headers: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The first `count` events of the stream, as (id, event, data) fields."""
    found: list[dict[str, str]] = []
    with (
        httpx.Client(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/v1/events/stream", headers={"Authorization": f"Bearer {key}", **(headers or {})}) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        for line in r.iter_lines():
            if not line:
                if "id" in current:
                    found.append(current)
                current = {}
                if len(found) == count:
                    return found
                continue
            name, _, value = line.partition(":")
            current[name] = value.strip()
    return found


def test_the_event_stream_resumes_after_a_disconnect_with_nothing_missed_or_repeated(
    ready: httpx.Client, server: Server, operator: str
) -> None:
    first = _sse_events(server, operator, 3, {"Last-Event-ID": "0"})
    assert [event["id"] for event in first] == ["1", "2", "3"]
    ready.post("/v1/commands", json=[deposit("s1"), deposit("s2")])  # while disconnected
    resumed = _sse_events(server, operator, 3, {"Last-Event-ID": first[-1]["id"]})
    assert [event["id"] for event in resumed] == ["4", "5", "6"]
    assert json.loads(resumed[0]["data"])["position"] == 4

    got: list[dict[str, str]] = []
    reader = threading.Thread(target=lambda: got.extend(_sse_events(server, operator, 1, {"Last-Event-ID": "6"})))
    reader.start()
    threading.Event().wait(0.5)
    ready.post("/v1/commands", json=deposit("live"))  # committed while the stream waits
    reader.join(10)
    assert [event["id"] for event in got] == ["7"]
    assert got[0]["event"] == "FundsDeposited"


def test_a_reset_from_the_command_line_is_refused_while_a_server_serves_the_sandbox(
    home: Path, ready: httpx.Client, server: Server
) -> None:
    ready.post("/v1/commands", json=deposit("kept"))
    refused = ledger("sandbox", "reset", "--yes", "--home", str(home))
    assert refused.returncode == 2
    assert "'ledger serve' is serving" in refused.stderr
    assert ready.post("/v1/commands", json=deposit("after")).json()["status"] == "accepted"
    balances = {row["account"]: row["amount"] for row in ready.get("/v1/balances").json()}
    assert balances["client:alesia"] == "2.00"
    server.stop()
    assert ledger("sandbox", "reset", "--yes", "--home", str(home)).returncode == 0
