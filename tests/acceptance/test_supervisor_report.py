"""The supervisor's report: rendered by a real browser (headless Chromium), leading to its evidence, signed."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.acceptance.browser import render
from tests.acceptance.cli import ledger, write_batch


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path, Path]:
    """The demo bank, its key, its bundle and its report (module-wide: each is read, never changed)."""
    root = tmp_path_factory.mktemp("report")
    home = root / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    out = root / "report"
    made = ledger("report", "supervisor", "--out", str(out), "--home", str(home))
    assert made.returncode == 0, made.stderr
    bundle = root / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    return home, key, bundle, out


OVERFLOW_PROBE = """<!doctype html><html><body>
<iframe id="page" src="REPORT" style="width:1400px;height:900px;border:0"></iframe><pre id="result">pending</pre>
<script>
window.addEventListener("load", function () {
  var doc = document.getElementById("page").contentDocument, width = doc.documentElement.clientWidth;
  var over = [];
  doc.querySelectorAll("table").forEach(function (t) {
    if (t.getBoundingClientRect().right > width + 0.5 || t.scrollWidth > t.parentElement.clientWidth + 0.5)
      over.push(t.parentElement.id);
  });
  document.getElementById("result").textContent = JSON.stringify({
    scroll: doc.documentElement.scrollWidth, width: width, over: over,
    tables: doc.querySelectorAll("table").length, sortable: doc.querySelectorAll("th.sortable").length});
});
</script></body></html>"""


def probe(chromium: str, report: Path, tmp_path: Path) -> dict[str, object]:
    """What a page of 1400 px makes of the report: its width, and the tables wider than their place."""
    page = tmp_path / "probe.html"
    page.write_text(OVERFLOW_PROBE.replace("REPORT", (report / "index.html").as_uri()))
    dom = render(chromium, page, tmp_path / "probe-profile", "--allow-file-access-from-files", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-500:]
    found = re.search(r'<pre id="result">(.*?)</pre>', dom.stdout)
    assert found is not None, dom.stdout[-500:]
    return dict(json.loads(found.group(1)))


@pytest.mark.slow
def test_the_report_renders_every_section_with_nothing_wider_than_1400_px(
    demo: tuple[Path, str, Path, Path], chromium: str, tmp_path: Path
) -> None:
    _, _, _, out = demo
    dom = render(chromium, out / "index.html", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-500:]
    for expected in (
        "Supervisor report: Zubr Crypto Bank JSC",
        "NBRB-CB-0001",
        "Summary",
        "Foreign-venue attempts by client and day",
        "Cross-border outflow by client",
        "Concentration: clients by outstanding value",
        "Outstanding and overdue value abroad",
        "Settlements with incomplete travel-rule data",
        "AML notifications and the operations they cover",
        "Token supply against holdings",
        "View digests at the checkpoint",
        "0.4727",
        "<polyline",
    ):
        assert expected in dom.stdout, expected
    assert "True" not in re.sub(r"<[^>]+>", " ", dom.stdout)  # booleans read yes / no
    seen = probe(chromium, out, tmp_path)
    assert seen["over"] == []
    assert seen["scroll"] == seen["width"]
    assert seen["sortable"] > 0  # the long tables sort (the page's own script ran)
    printed = tmp_path / "report.pdf"
    rendered = render(
        chromium, out / "index.html", tmp_path / "print", f"--print-to-pdf={printed}", "--no-pdf-header-footer"
    )
    assert rendered.returncode == 0, rendered.stderr[-500:]
    assert printed.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_a_simulated_quarter_fits_the_page_too(chromium: str, tmp_path: Path) -> None:
    home = tmp_path / "bank"
    assert ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    assert ledger("simulate", "--seed", "11", "--days", "40", "--home", str(home)).returncode == 0
    out = tmp_path / "report"
    assert ledger("report", "supervisor", "--out", str(out), "--home", str(home)).returncode == 0
    seen = probe(chromium, out, tmp_path)
    assert seen["over"] == []
    assert seen["scroll"] == seen["width"]
    report = json.loads((out / "report.json").read_text())["tables"]
    for section in ("aml_notices", "travel_rule_gaps", "foreign_venue_attempts", "concentration_counterparties"):
        assert report[section], section  # the default mix has something in every section
    assert report["settlement_summary"][0]["status_closed"] > 0  # imports closed by delivery
    assert {row["asset"] for row in report["settlements"]} == {"BYN", "USDT"}
    linked = max(report["aml_notices"], key=lambda row: len(row["operations"].split(", ")))
    assert len(linked["leaves"]) == len(linked["operations"].split(", ")) + 1  # the notice and each operation


def rows(out: Path, table: str) -> list[dict[str, object]]:
    return list(json.loads((out / "tables" / f"{table}.json").read_text()))


def test_every_cited_leaf_has_a_proof_beside_the_page_that_verifies_offline(demo: tuple[Path, str, Path, Path]) -> None:
    _, key, _, out = demo
    cited = sorted({leaf for table in ("settlements", "foreign_venue_attempts", "aml_notices")
                    for row in rows(out, table) for leaf in row["leaves"]})  # type: ignore[attr-defined]  # fmt: skip
    assert cited
    page = (out / "index.html").read_text()
    for leaf in cited:
        assert f'href="proofs/leaf-{leaf}.tlog-proof"' in page
    for leaf in cited[:5]:
        checked = ledger(
            "audit", "verify-proof", str(out / "proofs" / f"leaf-{leaf}.tlog-proof"), "--key", key, "--json"
        )
        assert checked.returncode == 0, checked.stderr
        assert json.loads(checked.stdout)["leaf"]["index"] == leaf


def test_a_settlement_row_cites_the_very_events_of_that_settlement(demo: tuple[Path, str, Path, Path]) -> None:
    _, key, _, out = demo
    for row in rows(out, "settlements"):
        for leaf in row["leaves"]:  # type: ignore[attr-defined]
            proof = ledger(
                "audit", "verify-proof", str(out / "proofs" / f"leaf-{leaf}.tlog-proof"), "--key", key, "--json"
            )
            assert json.loads(proof.stdout)["leaf"]["data"]["settlement_id"] == row["settlement_id"]
    (attempt,) = rows(out, "foreign_venue_attempts")
    assert (attempt["client"], attempt["attempts"], attempt["venues"]) == ("alesia", 1, "offshore-x")


def test_report_json_carries_the_checkpoint_and_the_digests_a_replay_of_the_bundle_gives(
    demo: tuple[Path, str, Path, Path],
) -> None:
    _, key, bundle, out = demo
    report = json.loads((out / "report.json").read_text())
    replayed = ledger("replay", "--bundle", str(bundle), "--key", key, "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert report["view_digests"] == json.loads(replayed.stdout)["digests"]
    assert report["checkpoint"]["size"] == json.loads((bundle / "manifest.json").read_text())["tree_size"]
    assert report["tables"]["settlement_summary"][0]["share_returned"] == "0.4727"
    (supply,) = report["tables"]["supply"]
    assert (supply["token"], supply["supply"], supply["held_by_clients"], supply["matches"]) == (
        "SVT",
        "9500.00",
        "9500.00",
        True,
    )


def test_the_signed_report_verifies_and_names_each_file_changed_or_added(
    demo: tuple[Path, str, Path, Path], tmp_path: Path
) -> None:
    _, key, bundle, out = demo
    checked = ledger("report", "verify", str(out), "--key", key, "--bundle", str(bundle))
    assert checked.returncode == 0, checked.stderr
    assert "the bundle's replay gives its views" in checked.stdout
    copy = tmp_path / "copy"
    for path in out.rglob("*"):
        target = copy / path.relative_to(out)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (copy / "tables" / "supply.csv").write_text(
        (copy / "tables" / "supply.csv").read_text().replace("9500.00", "9400.00", 1)
    )
    (copy / "index.html").write_text((copy / "index.html").read_text().replace("Zubr", "Zubr!"))
    (copy / "proofs" / "extra.txt").write_text("x")
    failed = ledger("report", "verify", str(copy), "--key", key)
    assert failed.returncode == 1
    assert "index.html: not the file that was signed" in failed.stderr
    assert "tables/supply.csv: not the file the manifest lists" in failed.stderr
    assert "proofs/extra.txt: not part of the signed report" in failed.stderr
    assert "Traceback" not in failed.stderr
    _, other = (
        ledger("init", "--home", str(tmp_path / "other"), "--sandbox-key").stdout,
        ledger("audit", "key", "--home", str(tmp_path / "other")).stdout.strip(),
    )
    refused = ledger("report", "verify", str(out), "--key", other)
    assert refused.returncode == 1
    assert "not signed by" in refused.stderr


def test_a_name_that_would_be_a_spreadsheet_formula_is_written_inert(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    formula = '=HYPERLINK("http://127.0.0.1/x","click")'
    batch = write_batch(
        tmp_path / "settle.jsonl",
        {"type": "initiate_settlement", "key": "csv-1", "settlement_id": "S-CSV", "client_id": "nord-timber",
         "direction": "export", "counterparty": formula, "country": "TR", "contract_reference": "@SUM(A1)",
         "asset": "BYN", "amount": "10.00"},
    )  # fmt: skip
    submitted = ledger("submit", str(batch), "--home", str(home))
    assert submitted.returncode == 0, submitted.stderr
    out = tmp_path / "report"
    assert ledger("report", "supervisor", "--out", str(out), "--home", str(home)).returncode == 0
    with (out / "tables" / "settlements.csv").open(newline="") as handle:
        written = {row["settlement_id"]: row for row in csv.DictReader(handle)}
    assert written["S-CSV"]["counterparty"] == "'" + formula
    assert all(not value.startswith(("=", "+", "@")) for row in written.values() for value in row.values())
    json_rows = {row["settlement_id"]: row for row in rows(out, "settlements")}
    assert json_rows["S-CSV"]["counterparty"] == formula  # the data itself is kept exactly
    assert "=HYPERLINK(&#34;http" in (out / "index.html").read_text()  # and the page escapes it


def test_the_report_refuses_a_directory_in_use(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    assert ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    result = ledger("report", "supervisor", "--out", str(tmp_path / "used"), "--home", str(home))
    assert result.returncode == 2
    assert "not empty" in result.stderr
