"""A sandbox home prepared by `ledger init`, for the acceptance tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.browser import chromium
from tests.acceptance.cli import ledger

__all__ = ["chromium", "home"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "sandbox"
    result = ledger("init", "--home", str(home), "--sandbox-key")
    assert result.returncode == 0, result.stderr
    return home
