"""Benchmarks (DESIGN.md section 7): imported only by `ledger bench`, never by the product.

`write` (write.sqlite, write.postgres), `replay` (replay, memory.replay,
open.read, open.write, on the same logs), `audit` (audit.verify,
memory.verify). The SQLite figures need no PostgreSQL driver.
"""
