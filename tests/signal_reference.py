"""Slow, plain-Python signal features: the reference the core's FeatureState is tested against.

Same definitions as src/fastcore/signal/features.hpp: alpha = 1 - 2^(-dt / half_life); the first
sample seeds an average; dt <= 0 leaves averages alone; an empty or crossed book has no book features.
"""

from __future__ import annotations

import math

from book_reference import ReferenceBook


class ReferenceSignals:
    """Features of one instrument, recomputed from a ReferenceBook with a full walk every time."""

    def __init__(
        self, mid_half_life_ns: int, vol_half_life_ns: int, flow_half_life_ns: int, depth: int
    ) -> None:
        self.mid_half_life_ns = mid_half_life_ns
        self.vol_half_life_ns = vol_half_life_ns
        self.flow_half_life_ns = flow_half_life_ns
        self.depth = depth
        self.values: dict[str, float | None] = dict.fromkeys(
            (
                "microprice",
                "micro_offset",
                "imbalance",
                "spread",
                "mid",
                "mid_ema",
                "mid_ema_dev",
                "volatility",
                "trade_flow",
            )
        )
        self.mid_ts: int | None = None
        self.ref_mid: float | None = None
        self.var: float | None = None
        self.flow_ts: int | None = None
        self.buy = 0.0
        self.sell = 0.0

    @staticmethod
    def alpha(dt: int, half_life: int) -> float:
        return 0.0 if dt <= 0 else 1.0 - math.exp2(-dt / half_life)

    def on_book(self, book: ReferenceBook, ts: int) -> None:
        bids, asks = book.levels(0), book.levels(1)
        if not bids or not asks or bids[0][0] >= asks[0][0]:
            for name in ("microprice", "micro_offset", "imbalance", "spread", "mid", "mid_ema_dev"):
                self.values[name] = None
            return
        (bid_px, bid_qty), (ask_px, ask_qty) = bids[0], asks[0]
        mid = (bid_px + ask_px) / 2
        spread = float(ask_px - bid_px)
        offset = (bid_qty - ask_qty) / (bid_qty + ask_qty)
        self.values.update(
            microprice=mid + offset * spread * 0.5, micro_offset=offset, spread=spread, mid=mid
        )
        depth_bid = float(sum(qty for _, qty in bids[: self.depth]))
        depth_ask = float(sum(qty for _, qty in asks[: self.depth]))
        self.values["imbalance"] = (depth_bid - depth_ask) / (depth_bid + depth_ask)
        dt = 0 if self.mid_ts is None else ts - self.mid_ts
        ema = self.values["mid_ema"]
        if ema is None or self.mid_ts is None:
            ema = mid
            self.mid_ts = ts
        elif dt > 0:
            ema += self.alpha(dt, self.mid_half_life_ns) * (mid - ema)
        self.values["mid_ema"] = ema
        self.values["mid_ema_dev"] = mid - ema
        if mid > 0:
            if self.ref_mid is None:
                self.ref_mid = mid
            elif dt > 0:
                r = math.log(mid / self.ref_mid) if mid != self.ref_mid else 0.0
                self.ref_mid = mid
                if self.var is None:
                    self.var = r * r
                else:
                    self.var += self.alpha(dt, self.vol_half_life_ns) * (r * r - self.var)
                self.values["volatility"] = math.sqrt(self.var)
        else:
            self.ref_mid = None
        if dt > 0:
            self.mid_ts = ts

    def on_trade(self, buy: bool, qty: int, ts: int) -> None:
        if qty <= 0:
            return
        if self.flow_ts is None:
            self.flow_ts = ts
        elif ts > self.flow_ts:
            keep = 1.0 - self.alpha(ts - self.flow_ts, self.flow_half_life_ns)
            self.buy *= keep
            self.sell *= keep
            self.flow_ts = ts
        if buy:
            self.buy += qty
        else:
            self.sell += qty
        self.values["trade_flow"] = (self.buy - self.sell) / (self.buy + self.sell)
