"""A slow, obviously correct L2 book in pure Python: the reference the core book is tested against.

Lives in tests/ only (DESIGN.md: one implementation per domain object in C++; a reference model may
live in tests/ for differential testing).
"""

from __future__ import annotations


class ReferenceBook:
    """Two dicts of price -> quantity; zero removes; no cap, no cleverness."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def update(self, side: int, px: int, qty: int) -> None:
        levels = self.bids if side == 0 else self.asks
        if qty == 0:
            levels.pop(px, None)
        else:
            levels[px] = qty

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()

    def levels(self, side: int) -> list[tuple[int, int]]:
        if side == 0:
            return sorted(self.bids.items(), key=lambda level: -level[0])
        return sorted(self.asks.items())

    def best(self, side: int) -> tuple[int, int] | None:
        levels = self.levels(side)
        return levels[0] if levels else None

    def is_crossed(self) -> bool:
        bid, ask = self.best(0), self.best(1)
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def impact(self, buy: bool, qty: int) -> tuple[int, int, int]:
        """Walk the opposite side: (filled lots, sum px*qty, levels touched)."""
        filled = notional = touched = 0
        for px, available in self.levels(1 if buy else 0):
            if filled == qty:
                break
            take = min(available, qty - filled)
            filled += take
            notional += px * take
            touched += 1
        return filled, notional, touched
