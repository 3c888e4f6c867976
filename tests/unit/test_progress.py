"""`ledger.progress`: a bar with its total on a terminal, silence anywhere else."""

from __future__ import annotations

import io
import os
import pty
import re

from ledger.progress import no_progress, progress, rate_text


def test_progress_writes_nothing_to_a_stream_that_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress("verifying leaves", total=1000, stream=stream) as advance:
        advance(400)
        advance(600)
    assert stream.getvalue() == ""


def test_progress_shows_the_count_out_of_the_total_on_a_terminal() -> None:
    controller, terminal = pty.openpty()
    with open(terminal, "w", encoding="utf-8") as stream:
        with progress("verifying leaves", total=1_000_000, stream=stream) as advance:
            advance(250_000)
            advance(750_000)
        stream.flush()
    shown = b""
    while chunk := _read(controller):
        shown += chunk
    os.close(controller)
    assert "verifying leaves" in shown.decode()
    assert "1,000,000/1,000,000" in shown.decode()


def test_progress_can_be_turned_off_on_a_terminal_too() -> None:
    controller, terminal = pty.openpty()
    with (
        open(terminal, "w", encoding="utf-8") as stream,
        progress("verifying leaves", total=10, stream=stream, enabled=False) as advance,
    ):
        advance(10)
    assert _read(controller) == b""
    os.close(controller)


def test_no_progress_takes_the_same_calls() -> None:
    with no_progress("anything", total=3) as advance:
        advance(3)


def _read(descriptor: int) -> bytes:
    import select  # noqa: PLC0415

    ready, _, _ = select.select([descriptor], [], [], 0.5)
    if not ready:
        return b""
    try:
        return os.read(descriptor, 65536)
    except OSError:
        return b""


def test_progress_shows_a_rate_in_the_unit_of_its_description_on_a_terminal() -> None:
    controller, terminal = pty.openpty()
    with open(terminal, "w", encoding="utf-8") as stream:
        with progress("replaying events", total=3000, stream=stream) as advance:
            advance(1000)
            advance(2000)
        with progress("benchmarking", total=2, unit="benchmarks", stream=stream) as advance:
            advance(2)
        stream.flush()
    shown = b""
    while chunk := _read(controller):
        shown += chunk
    os.close(controller)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode())
    assert re.search(r"3,000/3,000 .* \d[\d,.]* events/s", text), text
    assert re.search(r"2/2 .* \d[\d,.]* benchmarks/s", text), text


def test_a_rate_reads_as_people_read_it() -> None:
    assert [rate_text(r) for r in (12345.6, 42.46, 0.254)] == ["12,346", "42.5", "0.25"]
