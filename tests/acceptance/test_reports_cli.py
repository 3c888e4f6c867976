"""The supervisor's reports after the demo, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.acceptance.cli import ledger


def test_the_settlement_report_after_the_demo(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    assert ledger("demo", "--home", str(home)).returncode == 0
    result = ledger("report", "settlements", "--home", str(home), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["by_status"] == {"open": 0, "returned": 1, "closed": 1, "overdue": 2}
    assert report["share_returned"] == "0.4727"
    assert report["as_of"] == "2026-04-05"
    assert report["outstanding"]["by_age"] == {"31-90 days": "33000.00"}
    assert set(report["monthly_volume_byn"]["2026-02"]) == {"AE", "DE", "KZ", "TR"}
    assert [notice["client_id"] for notice in report["aml_notifications"]] == ["alesia"]
    readable = ledger("report", "settlements", "--home", str(home))
    assert "Share of outbound value returned: 0.4727" in readable.stdout
