"""`--verbose` and `--log-format json`: log records on standard error only, for the CLI and the service (issue 17)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import httpx

from tests.acceptance.cli import ledger, store_digest, write_batch
from tests.acceptance.http import SETUP, api_key, serving

RECORD_KEYS = {"time", "level", "logger", "message"}


def json_records(stderr: str) -> list[dict[str, object]]:
    """Every line of `stderr` as a JSON object (a line that is not one fails the test)."""
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert all(isinstance(record, dict) for record in records)
    return records


def test_a_command_logs_nothing_but_warnings_by_default(home: Path) -> None:
    result = ledger("balances", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_warning_at_the_default_level_is_one_short_line_and_a_json_record_with_the_json_format(
    tmp_path: Path,
) -> None:
    home = tmp_path / "sandbox"
    made = ledger("init", "--home", str(home), env={"LEDGER_KEY_PASSPHRASE": "correct horse battery"})
    assert made.returncode == 0, made.stderr
    batch = write_batch(
        tmp_path / "batch.jsonl", {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"}
    )
    unsigned = ledger("submit", str(batch), "--home", str(home))  # no passphrase: written, unsigned, and said so
    assert unsigned.returncode == 0, unsigned.stderr
    (line,) = unsigned.stderr.splitlines()
    assert line.startswith("warning: checkpoints are not signed as this process writes")
    again = ledger("--log-format", "json", "submit", str(batch), "--home", str(home))
    assert again.returncode == 0, again.stderr
    (warning,) = json_records(again.stderr)
    assert (warning["level"], warning["logger"]) == ("WARNING", "ledger.sandbox")
    assert str(warning["message"]).startswith("checkpoints are not signed")


def test_verbose_prints_info_records_on_stderr_and_the_same_stdout_as_without(home: Path) -> None:
    quiet = ledger("balances", "--home", str(home))
    verbose = ledger("-v", "balances", "--home", str(home))
    assert verbose.returncode == quiet.returncode == 0, verbose.stderr
    assert verbose.stdout == quiet.stdout
    assert " INFO " in verbose.stderr
    assert "ledger.store.backends: store opened" in verbose.stderr
    assert f"path={home / 'ledger.sqlite'}" in verbose.stderr
    assert " DEBUG " not in verbose.stderr


def test_twice_verbose_adds_debug_records_of_committed_batches(home: Path, tmp_path: Path) -> None:
    batch = write_batch(
        tmp_path / "batch.jsonl",
        {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"},
    )
    result = ledger("-vv", "submit", str(batch), "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert " DEBUG " in result.stderr
    assert "batch committed: 1 commands, 1 events" in result.stderr


def test_json_log_lines_all_parse_with_time_level_logger_message_and_fields(home: Path) -> None:
    result = ledger(
        "-vv", "--log-format", "json", "simulate", "--seed", "4", "--days", "1", "--clients", "3", "--home", str(home),
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["seed"] == 4  # stdout is the result alone
    records = json_records(result.stderr)
    assert records
    for record in records:
        assert set(record) >= RECORD_KEYS, record
        assert str(record["time"]).endswith("Z")
        assert datetime.fromisoformat(str(record["time"])).utcoffset() is not None
    levels = {record["level"] for record in records}
    assert {"INFO", "DEBUG"} <= levels
    batch = next(record for record in records if str(record["message"]).startswith("batch committed"))
    assert batch["logger"] == "ledger.service"
    assert isinstance(batch["events"], int)
    assert isinstance(batch["first_position"], int)
    assert isinstance(batch["last_position"], int)
    opened = next(record for record in records if record["message"] == "store opened")
    assert (opened["backend"], opened["path"]) == ("sqlite", str(home / "ledger.sqlite"))


def test_the_log_options_may_come_after_the_command_as_well(home: Path) -> None:
    before = ledger("-v", "--log-format", "json", "balances", "--home", str(home))
    after = ledger("balances", "--home", str(home), "-v", "--log-format", "json")
    assert after.returncode == before.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert [r["message"] for r in json_records(after.stderr)] == [r["message"] for r in json_records(before.stderr)]


def test_a_postgresql_store_opened_is_logged_with_its_schema_and_never_its_password(
    tmp_path: Path, postgres_url: str
) -> None:
    home = tmp_path / "pg"
    with_password = postgres_url.replace("://postgres@", "://postgres:s3cret-word@")  # trust: any password is taken
    assert "s3cret-word" in with_password
    result = ledger("--log-format", "json", "-v", "init", "--home", str(home), "--database-url", with_password,
                    "--sandbox-key")  # fmt: skip
    assert result.returncode == 0, result.stderr
    opened = [r for r in json_records(result.stderr) if r["message"] == "store opened"]
    assert opened
    assert {(r["backend"], r["schema"]) for r in opened} == {("postgresql", postgres_url.split("schema=")[1])}
    assert "dbname=test" in str(opened[0]["conninfo"])
    assert "s3cret-word" not in result.stderr


def test_the_log_settings_come_from_the_environment_too(home: Path) -> None:
    result = ledger("balances", "--home", str(home), env={"LEDGER_LOG_LEVEL": "info", "LEDGER_LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    assert any(record["message"] == "store opened" for record in json_records(result.stderr))


def test_an_unknown_log_format_or_level_is_one_line_naming_it_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    before = store_digest(home)
    batch = write_batch(
        tmp_path / "batch.jsonl", {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"}
    )
    for options, env, named in (
        (("--log-format", "xml"), {}, "'xml'"),
        ((), {"LEDGER_LOG_FORMAT": "yaml"}, "'yaml'"),
        ((), {"LEDGER_LOG_LEVEL": "loud"}, "LEDGER_LOG_LEVEL='loud'"),
    ):
        result = ledger(*options, "submit", str(batch), "--home", str(home), env=env)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert named in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
    assert store_digest(home) == before


def test_the_served_process_logs_a_request_and_its_own_start_as_json(home: Path) -> None:
    operator = api_key(home, "operator")
    with serving(home, options=("-v", "--log-format", "json")) as server, server.client(operator) as client:
        assert client.post("/v1/commands", json=SETUP).status_code == 200
        assert client.get("/v1/balances").status_code == 200
        assert httpx.get(f"{server.url}/v1/balances").status_code == 401
        server.stop()
    records = json_records(server.log())  # "stopped" too is a record
    for record in records:
        assert set(record) >= RECORD_KEYS, record
    requests = [record for record in records if record["logger"] == "ledger.api.access"]
    balances = next(r for r in requests if r["path"] == "/v1/balances" and r["status"] == 200)
    assert balances["method"] == "GET"
    assert isinstance(balances["duration_ms"], float | int)
    assert balances["key_id"] == operator.split("_")[1]
    assert any(r["path"] == "/v1/balances" and r["status"] == 401 for r in requests)
    assert any(r["method"] == "POST" and r["path"] == "/v1/commands" for r in requests)
    # uvicorn's own records come out in the same format
    assert any(str(record["logger"]).startswith("uvicorn") for record in records)
    assert any(record["message"] == "stopped" for record in records)
    assert operator.split("_", 2)[2] not in server.log()


def test_the_served_process_logs_a_line_of_text_per_request_by_default_and_none_when_quiet(home: Path) -> None:
    operator = api_key(home, "operator")
    with serving(home) as server, server.client(operator) as client:
        client.get("/v1/balances")
        server.stop()
    (line,) = [line for line in server.log().splitlines() if "ledger.api.access" in line]
    assert "INFO" in line
    assert "GET /v1/balances 200" in line
    assert "duration_ms=" in line
    with serving(home, "--quiet") as quiet, quiet.client(operator) as client:
        client.get("/v1/balances")
        quiet.stop()
    assert "ledger.api.access" not in quiet.log()
