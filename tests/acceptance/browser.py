"""A real browser for the acceptance tests: Debian's headless Chromium, installed by the tests when missing."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no network but this machine
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed here when missing (the machines run as root)."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        # One installer at a time: parallel test workers each ask for it, and apt holds a lock of its own.
        with open(Path(tempfile.gettempdir()) / "ledger-tests-chromium.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = shutil.which("chromium")
            if found is None:
                subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, timeout=600)
                install = ["apt-get", "install", "-y", "-q", "chromium"]
                subprocess.run(install, check=False, capture_output=True, timeout=900)
                found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium could not be installed, and CI=true")
        pytest.skip("no chromium on this machine, and it could not be installed")
    return found


def render(browser: str, page: Path | str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium on a file or an address of 127.0.0.1 (every other host is unreachable for it)."""
    address = page.as_uri() if isinstance(page, Path) else page
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, address],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
