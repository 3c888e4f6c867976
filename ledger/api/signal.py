"""A wake-up for the event stream: the writer thread says "the log grew", streams waiting on it look again.

Streams also look every `poll` seconds without being woken, for what other
writers (another server on the same PostgreSQL schema, the CLI) append.
"""

from __future__ import annotations

import asyncio
import contextlib


class LogSignal:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        """From any thread: wakes every stream waiting now."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Returns when the log may have grown, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
