"""The supervisor's report, rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.acceptance.browser import render
from tests.acceptance.cli import ledger


@pytest.mark.slow
def test_the_supervisor_report_renders_every_section_in_a_browser(tmp_path: Path, chromium: str) -> None:
    home = tmp_path / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    out = tmp_path / "report"
    made = ledger("report", "supervisor", "--out", str(out), "--home", str(home))
    assert made.returncode == 0, made.stderr
    dom = render(chromium, out / "index.html", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-500:]
    text = dom.stdout
    for expected in (
        "Supervisor report: Zubr Crypto Bank JSC",
        "NBRB-CB-0001",
        "Signed checkpoint covered",
        "Token supply against holdings",
        "Trades by venue",
        "minsk-htp",
        "FOREIGN_VENUE_FORBIDDEN",
        "0.4727",
        "Monthly external-payment volume by country",
        "AML notifications",
        "Travel-rule completeness",
        "<svg",
    ):
        assert expected in text, expected
    shot = tmp_path / "report.png"
    rendered = render(
        chromium, out / "index.html", tmp_path / "profile2", "--window-size=1200,2000", f"--screenshot={shot}"
    )
    assert rendered.returncode == 0, rendered.stderr[-500:]
    assert shot.stat().st_size > 20_000
    size = json.loads((out / "tables" / "checkpoint.json").read_text())[0]["tree_size"]
    assert (out / f"checkpoint-{size}.txt").exists()
    with (out / "tables" / "supply.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["token"], row["supply"], row["held_by_clients"]) == ("SVT", "9500.00", "9500.00")
    report = json.loads((out / "report.json").read_text())
    assert report["settlement_summary"][0]["share_returned"] == "0.4727"


def test_the_report_refuses_a_directory_in_use(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    assert ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    result = ledger("report", "supervisor", "--out", str(tmp_path / "used"), "--home", str(home))
    assert result.returncode == 2
    assert "not empty" in result.stderr
