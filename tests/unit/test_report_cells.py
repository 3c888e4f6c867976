"""What the report writes into cells: nothing a spreadsheet would run, numbers kept as numbers."""

from __future__ import annotations

import pytest

from ledger.supervisor.files import inert
from ledger.supervisor.page import cell
from ledger.supervisor.tables import Table


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+7 495 000", "'+7 495 000"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("-5.00", "-5.00"),
        ("-12", "-12"),
        ("Golden Horn Textiles", "Golden Horn Textiles"),
        ("", ""),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(text: str, written: str) -> None:
    assert inert(text) == written


def test_booleans_read_yes_or_no_and_amounts_are_grouped_but_sort_by_their_digits() -> None:
    table = Table("t", "T", [{"matches": True, "amount": "1234567.50", "client": "Anna"}])
    assert cell(table, "matches", True).text == "yes"
    assert cell(table, "matches", False).text == "no"
    amount = cell(table, "amount", "1234567.50")
    assert (amount.text, amount.sort, amount.numeric) == ("1\u2009234\u2009567.50", "1234567.50", True)
    assert cell(table, "amount", "-1000.00").text == "-1\u2009000.00"
    assert not cell(table, "client", "Anna").numeric


def test_leaves_are_counted_and_kept_for_their_links() -> None:
    table = Table("t", "T", [{"leaves": [3, 9]}])
    shown = cell(table, "leaves", [3, 9])
    assert (shown.text, shown.leaves, shown.kind) == ("2", (3, 9), "leaves")
