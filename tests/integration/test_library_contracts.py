"""The library's own recorder test cases pass on the ledger's guarded tables.

The ledger adds append-only triggers and its own set-up to the library's
SQLite and PostgreSQL recorders; the library's reusable test cases show that
the recorders still behave exactly as the library promises.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.store.ports import Backend, StoreLocation
from ledger.store.schema import open_store


def join_library_threads() -> None:
    """The library's concurrency test stops its reader threads without joining
    them; closing the store under a reader still in a query would crash it."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout=30)


class GuardedSQLiteRecorderTest(ApplicationRecorderTestCase[ApplicationRecorder]):
    backends: ClassVar[list[Backend]] = []

    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()

    def tearDown(self) -> None:
        join_library_threads()
        for backend in self.backends:
            backend.close()
        self.backends.clear()
        self.folder.cleanup()

    def create_recorder(self) -> ApplicationRecorder:
        path = Path(self.folder.name) / f"ledger-{len(self.backends)}.sqlite"
        backend = open_store(StoreLocation(sqlite_path=path), create=True)
        self.backends.append(backend)
        return backend.store.recorder

    # Speed is measured by `ledger bench`, never by timed tests.
    test_performance = None  # type: ignore[assignment]
    test_concurrent_throughput = None  # type: ignore[assignment]


@pytest.mark.postgres
class GuardedPostgresRecorderTest(ApplicationRecorderTestCase[ApplicationRecorder]):
    backends: ClassVar[list[Backend]] = []

    @pytest.fixture(autouse=True)
    def _schema(self, postgres_url: str) -> None:
        self.url = postgres_url

    def tearDown(self) -> None:
        join_library_threads()
        for backend in self.backends:
            backend.close()
        self.backends.clear()

    def create_recorder(self) -> ApplicationRecorder:
        backend = open_store(StoreLocation.parse(home=Path(os.devnull), database_url=self.url), create=True)
        self.backends.append(backend)
        return backend.store.recorder

    # Speed is measured by `ledger bench`, never by timed tests.
    test_performance = None  # type: ignore[assignment]
    test_concurrent_throughput = None  # type: ignore[assignment]
