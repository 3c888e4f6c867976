"""No stale decisions: a writer in another process sees every event committed before it decides."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from domain.commands import DelistVenue
from ledger import Ledger
from tests.world import funding_commands, setup_commands, trading_commands

OpenLedger = Callable[..., Ledger]

# The other process opens the ledger (reading the log as it is then), says it
# is ready, waits, and only then trades on the venue: by that time this
# process has delisted the venue, and the other must see it.
OTHER_WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from domain.commands import ExecuteTrade
    from ledger import Ledger

    ledger = Ledger.open(home=Path(sys.argv[1]), database_url=sys.argv[2], create=True)
    print("ready", ledger.state.venues["minsk-htp"].listed, flush=True)
    sys.stdin.readline()
    trade = ExecuteTrade(key="late-trade", venue_id="minsk-htp", buyer_client_id="alesia",
                         seller_client_id="nord", base_asset="USDT", base_amount="1",
                         quote_asset="BYN", quote_amount="3.30")
    (result,) = ledger.submit([trade])
    print(json.dumps(result.to_json()), flush=True)
    ledger.close()
    """
)


def test_a_trade_decided_after_a_delisting_in_another_process_is_rejected(
    open_ledger: OpenLedger, database_url: str, tmp_path: Path
) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands() + funding_commands() + trading_commands())
    with subprocess.Popen(
        [sys.executable, "-c", OTHER_WRITER, str(tmp_path / "home"), database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as other:
        assert other.stdout is not None
        assert other.stdin is not None
        ready = other.stdout.readline()
        assert ready.split() == ["ready", "True"], other.stderr.read() if other.stderr else ready
        delisting = DelistVenue(key="delist-minsk", venue_id="minsk-htp", reason="licence lapsed")
        (delisted,) = ledger.submit([delisting])
        other.stdin.write("go\n")
        other.stdin.flush()
        answer = other.stdout.readline()
        assert other.wait(timeout=60) == 0, other.stderr.read() if other.stderr else answer
    result = json.loads(answer)
    assert result["status"] == "rejected"
    assert result["rule"] == "VENUE_NOT_LISTED"
    assert result["notification_ids"][0] > delisted.notification_ids[0]
    ledger.catch_up()
    assert ledger.state.rejections == 1
