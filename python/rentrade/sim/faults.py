"""Fault injection for the simulated venue: what goes wrong on the wire, and when.

Faults are decided per source message index ``n`` (the position of the message in the venue's
market, the same for every connection), so "at message N" means the same frame in every run. A
probability draws from a ``random.Random(seed)`` per connection, so a seeded run is reproducible.

Faults act on what a connection is sent, never on the venue's own book: a dropped diff is still
in the book a REST snapshot serves, exactly as when the exchange's frame is lost on the way.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["Fault", "FaultPlan", "FaultRoller"]


class Fault(enum.Enum):
    """One kind of injected fault."""

    DROP = "drop"
    """The message is not sent: the client sees a gap in ``pu``."""
    DUPLICATE = "duplicate"
    """The message is sent twice."""
    REORDER = "reorder"
    """The message is held back and sent after the next one for that connection."""
    MALFORMED = "malformed"
    """A corrupted copy (cut short, so not JSON) is sent instead of the message."""
    DISCONNECT = "disconnect"
    """The connection is closed (TCP close, no close frame) instead of sending the message."""
    STALL = "stall"
    """The connection goes silent for ``FaultPlan.stall_s`` (no data, no pongs) before the message."""


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults to inject. The default plan injects nothing.

    Attributes
    ----------
    seed : int
        Seed of the per-connection random draws.
    drop, duplicate, reorder, malformed, disconnect, stall : float
        Probability per message of each fault (0 = never).
    at : dict of Fault to collection of int
        Source message indexes at which a fault happens for sure, e.g. ``{Fault.DROP: {1000}}``.
    symbols : collection of str or None
        Only messages of these (upper-case) symbols are faulted; None = all symbols.
    channels : collection of str or None
        Only these channels (``depth``, ``bookTicker``, ``trade``, ``aggTrade``); None = all.
    stall_s : float
        Length of a stall.
    snapshot_delay_s : float
        Every REST ``/fapi/v1/depth`` answer is delayed this long (the snapshot is taken when the
        request arrives, so diffs keep flowing meanwhile: a slow snapshot).
    """

    seed: int = 0
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    malformed: float = 0.0
    disconnect: float = 0.0
    stall: float = 0.0
    at: dict[Fault, Collection[int]] = field(default_factory=dict)
    symbols: Collection[str] | None = None
    channels: Collection[str] | None = None
    stall_s: float = 2.0
    snapshot_delay_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder", "malformed", "disconnect", "stall"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultPlan.{name} is a probability in [0, 1], got {value!r}")
        if self.stall_s < 0 or self.snapshot_delay_s < 0:
            raise ValueError("FaultPlan.stall_s and snapshot_delay_s must be >= 0")

    @property
    def active(self) -> bool:
        """Whether the plan can inject anything on the wire."""
        return any(
            (self.drop, self.duplicate, self.reorder, self.malformed, self.disconnect, self.stall)
        ) or any(self.at.values())


_ORDER = (Fault.DISCONNECT, Fault.STALL, Fault.DROP, Fault.MALFORMED, Fault.REORDER, Fault.DUPLICATE)


class FaultRoller:
    """Decides, for one connection, which fault (if any) hits each message."""

    __slots__ = ("_at", "_plan", "_probabilities", "_rng")

    def __init__(self, plan: FaultPlan, connection_index: int) -> None:
        self._plan = plan
        self._rng = random.Random(plan.seed * 1_000_003 + connection_index)
        self._at = {fault: frozenset(plan.at.get(fault, ())) for fault in _ORDER}
        self._probabilities = [(fault, getattr(plan, fault.value)) for fault in _ORDER]

    def roll(self, index: int, symbol: str, channel: str) -> Fault | None:
        """The fault for source message ``index`` of ``symbol``/``channel``, or None."""
        plan = self._plan
        if plan.symbols is not None and symbol not in plan.symbols:
            return None
        if plan.channels is not None and channel not in plan.channels:
            return None
        for fault in _ORDER:
            if index in self._at[fault]:
                return fault
        for fault, probability in self._probabilities:
            if probability and self._rng.random() < probability:
                return fault
        return None
