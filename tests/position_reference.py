"""Slow pure-Python reference of the core's position accounting, for differential tests only.

Average cost with an exact integer basis in tick-lots: a partial close removes the closed share of the
basis rounded toward zero; the rest stays in the basis. The cash ledger is kept independently.
"""

from __future__ import annotations

from dataclasses import dataclass


def trunc_div(a: int, b: int) -> int:
    """a / b rounded toward zero (C++ integer division), b > 0."""
    q = abs(a) // b
    return q if a >= 0 else -q


@dataclass
class ReferencePosition:
    net_lots: int = 0
    open_cost: int = 0  # tick-lots of the open lots, sign of the prices (not of the position)
    realized: int = 0
    traded: int = 0
    cash: int = 0  # sum of signed fill notionals: sells +, buys -
    maker_fees: int = 0
    taker_fees: int = 0
    fills: int = 0

    def apply(self, buy: bool, px: int, qty: int, fee: int = 0, maker: bool = False) -> None:
        value = px * qty
        self.traded += abs(value)
        self.cash += -value if buy else value
        if maker:
            self.maker_fees += fee
        else:
            self.taker_fees += fee
        self.fills += 1
        if self.net_lots == 0 or (self.net_lots > 0) == buy:
            self.open_cost += value
            self.net_lots += qty if buy else -qty
            return
        open_lots = abs(self.net_lots)
        closed = min(qty, open_lots)
        removed = self.open_cost if closed == open_lots else trunc_div(self.open_cost * closed, open_lots)
        closed_value = px * closed
        self.realized += (removed - closed_value) if buy else (closed_value - removed)
        self.open_cost -= removed
        opened = qty - closed
        if opened == 0:
            self.net_lots += closed if buy else -closed
        else:
            self.open_cost = px * opened
            self.net_lots = opened if buy else -opened

    def unrealized(self, mark: int) -> int:
        cost = self.open_cost if self.net_lots >= 0 else -self.open_cost
        return mark * self.net_lots - cost
