"""Which signing key may sign which checkpoint, starting from the key the verifier pins.

A key rotation is a hand-over checkpoint signed by both the old and the new
key. From the pinned key, trust passes to another key only through such a
checkpoint: a successor signs from the hand-over on (and the old key no
longer may), a predecessor signed up to it. A key the bundle lists but that
no hand-over links to the pinned key is never trusted. A trust policy may pin
several keys of one log: each may sign any checkpoint, as the policy accepts
every log it lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FOREVER = 1 << 62


@dataclass
class Window:
    """The checkpoint sizes, inclusive, a key may sign."""

    low: int = 0
    high: int = FOREVER

    def __contains__(self, size: int) -> bool:
        return self.low <= size <= self.high


def key_windows(pinned: Iterable[int], signed_by: dict[int, set[int]]) -> dict[int, Window]:
    """`signed_by` maps each checkpoint size to the keys (by number) whose
    signature on it verifies; returns the window of every trusted key. Each
    pinned key may sign any checkpoint (a trust policy may pin several)."""
    windows = {key: Window() for key in pinned}
    sizes_of: dict[int, list[int]] = {}
    for size, keys in signed_by.items():
        for key in keys:
            sizes_of.setdefault(key, []).append(size)
    changed = True
    while changed:
        changed = False
        for size in sorted(signed_by):
            trusted = [k for k in signed_by[size] if k in windows and size in windows[k]]
            for other in signed_by[size] - set(windows):
                if not trusted:
                    break
                old = trusted[0]
                if min(sizes_of[other]) >= size:  # a successor: the hand-over is its first checkpoint
                    windows[other] = Window(low=size)
                    windows[old].high = min(windows[old].high, size)
                elif max(sizes_of[other]) <= size:  # a predecessor: the hand-over is its last
                    windows[other] = Window(high=size)
                    windows[old].low = max(windows[old].low, size)
                else:
                    continue
                changed = True
    return windows
