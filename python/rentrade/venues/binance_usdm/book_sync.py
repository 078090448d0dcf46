"""Binance's local order book synchronisation rules, as one small state machine per symbol.

Binance publishes the rules as "How to manage a local order book correctly" (USD-M futures, and a
separate page for spot). Both are: buffer diffs from the stream, fetch a REST snapshot with
``lastUpdateId`` (L), drop buffered diffs that the snapshot already contains, require the first applied
diff to straddle the snapshot, then require every diff to continue the previous one. They differ in
three details, which :class:`SyncRule` carries so there is one implementation:

=====================  ===========================  =============================
step                   USD-M futures                spot
=====================  ===========================  =============================
stale (dropped)        ``u < L``                    ``u <= L``
first applied          ``U <= L <= u``              ``U <= L + 1 <= u``
continuity             ``pu == previous u``         ``U == previous u + 1``
=====================  ===========================  =============================

A violation gives :attr:`SyncVerdict.GAP`: the book is no longer synced, must not be used, and the
caller fetches a new snapshot for that symbol alone. Diffs keep being buffered meanwhile.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

__all__ = [
    "FUTURES_RULE",
    "SPOT_RULE",
    "BookSync",
    "SnapshotOutcome",
    "SyncRule",
    "SyncVerdict",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SyncRule:
    """The parameters that distinguish one venue's sync rules from another's.

    Attributes
    ----------
    name : str
        For messages.
    snapshot_offset : int
        The first applied diff must contain update id ``lastUpdateId + snapshot_offset``; diffs ending
        before it are stale. 0 on futures (the snapshot's own id is re-sent), 1 on spot.
    chain_via_prev_id : bool
        True: continuity is ``pu == previous u`` (futures). False: ``U == previous u + 1`` (spot).
    """

    name: str
    snapshot_offset: int
    chain_via_prev_id: bool


FUTURES_RULE: Final = SyncRule("binance-usdm-futures", snapshot_offset=0, chain_via_prev_id=True)
"""USD-M (and COIN-M) futures: stale ``u < L``, first ``U <= L <= u``, then ``pu == previous u``."""

SPOT_RULE: Final = SyncRule("binance-spot", snapshot_offset=1, chain_via_prev_id=False)
"""Spot: stale ``u <= L``, first ``U <= L+1 <= u``, then ``U == previous u + 1``."""


class SyncVerdict(enum.Enum):
    """What the caller must do with a diff (or a snapshot)."""

    BUFFERED = "buffered"
    """Not synced yet: the diff is held until a snapshot arrives. Do not apply it."""
    APPLY = "apply"
    """Apply the diff to the book now."""
    STALE = "stale"
    """The book already contains everything in the diff (older than the snapshot, or a duplicate)."""
    GAP = "gap"
    """Continuity broke: mark the book not synced, stop using it, fetch a new snapshot."""


@dataclass(slots=True)
class SnapshotOutcome(Generic[T]):
    """Result of :meth:`BookSync.on_snapshot`.

    Attributes
    ----------
    verdict : SyncVerdict
        ``APPLY``: apply the snapshot, then ``ready`` in order; the book is synced. ``GAP``: the buffered
        diffs do not connect to this snapshot (it is older than the oldest kept diff, or the buffer
        itself has a hole): discard the snapshot and fetch another.
    ready : list
        Buffered diffs to apply after the snapshot, in order (empty on ``GAP``).
    stale : int
        Buffered diffs dropped because the snapshot already contains them.
    """

    verdict: SyncVerdict
    ready: list[T] = field(default_factory=list)
    stale: int = 0


class BookSync(Generic[T]):
    """The sync state machine for one symbol's book.

    It only decides; the caller owns the book and applies what it is told. Diffs are passed with
    their ids and an opaque ``item`` (decoded events, raw bytes, ...) that is handed back when it is
    time to apply it.

    Parameters
    ----------
    rule : SyncRule
        :data:`FUTURES_RULE` or :data:`SPOT_RULE`.
    max_buffered : int, optional
        Diffs held while waiting for a snapshot; the oldest are dropped beyond it. That is safe: a
        snapshot that needed a dropped diff then fails the straddle check and reports ``GAP``.

    Examples
    --------
    >>> sync = BookSync[str](FUTURES_RULE)
    >>> sync.on_diff(5, 9, 4, "d1")
    <SyncVerdict.BUFFERED: 'buffered'>
    >>> sync.on_snapshot(7).ready
    ['d1']
    >>> sync.on_diff(10, 12, 9, "d2")
    <SyncVerdict.APPLY: 'apply'>
    >>> sync.on_diff(14, 15, 13, "d3")
    <SyncVerdict.GAP: 'gap'>
    """

    def __init__(self, rule: SyncRule, max_buffered: int = 100_000) -> None:
        if max_buffered < 1:
            raise ValueError(f"max_buffered must be >= 1, got {max_buffered}")
        self._rule = rule
        self._buffer: deque[tuple[int, int, int | None, T]] = deque(maxlen=max_buffered)
        self._synced = False
        # While synced: id the next diff must start from. Just after a snapshot, the id it must contain.
        self._last_id = 0
        self._awaiting_first = False

    @property
    def rule(self) -> SyncRule:
        """The rule this machine enforces."""
        return self._rule

    @property
    def synced(self) -> bool:
        """Whether the book may be used: a snapshot was applied and no gap has been seen since."""
        return self._synced

    @property
    def last_update_id(self) -> int | None:
        """``u`` of the last applied diff (or the snapshot's ``lastUpdateId``); None when not synced."""
        return self._last_id if self._synced else None

    @property
    def buffered(self) -> int:
        """Diffs held waiting for a snapshot."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget everything (for example after a reconnect): not synced, nothing buffered."""
        self._buffer.clear()
        self._synced = False
        self._awaiting_first = False

    def on_diff(self, first_id: int, last_id: int, prev_id: int | None, item: T) -> SyncVerdict:
        """Judge one diff (``U``, ``u``, ``pu``) as it arrives.

        Parameters
        ----------
        first_id, last_id : int
            ``U`` and ``u``.
        prev_id : int or None
            ``pu``; required by the futures rule, ignored by spot.
        item : T
            What to buffer if the diff cannot be applied yet.

        Returns
        -------
        SyncVerdict
            ``APPLY`` (apply ``item`` now), ``BUFFERED``, ``STALE`` or ``GAP``. After ``GAP`` this diff
            is kept in the buffer for the next snapshot.

        Raises
        ------
        ValueError
            If ``first_id > last_id``, or the futures rule gets no ``pu``.
        """
        if first_id > last_id:
            raise ValueError(f"diff has U={first_id} > u={last_id}")
        if self._rule.chain_via_prev_id and prev_id is None:
            raise ValueError(f"{self._rule.name} rule needs the diff's 'pu' (previous u)")
        if not self._synced:
            self._buffer.append((first_id, last_id, prev_id, item))
            return SyncVerdict.BUFFERED
        verdict = self._judge(first_id, last_id, prev_id)
        if verdict is SyncVerdict.APPLY:
            self._last_id = last_id
            self._awaiting_first = False
        elif verdict is SyncVerdict.GAP:
            self._synced = False
            self._awaiting_first = False
            self._buffer.clear()
            # This diff is valid data after the hole: the next snapshot may well fall inside it.
            self._buffer.append((first_id, last_id, prev_id, item))
        return verdict

    def on_snapshot(self, last_update_id: int) -> SnapshotOutcome[T]:
        """Take a REST snapshot's ``lastUpdateId`` and release the buffered diffs that follow it.

        A snapshot while synced replaces the book (the caller asked for it, e.g. a periodic check):
        buffered state is rebuilt from it the same way.

        Parameters
        ----------
        last_update_id : int
            ``lastUpdateId`` of the snapshot.

        Returns
        -------
        SnapshotOutcome
            On ``APPLY``, apply the snapshot then ``ready`` in order.
        """
        offset = self._rule.snapshot_offset
        target = last_update_id + offset
        stale = 0
        while self._buffer and self._buffer[0][1] < target:
            self._buffer.popleft()
            stale += 1
        ready: list[T] = []
        if self._buffer:
            first_id, last_id, _, item = self._buffer[0]
            if first_id > target:
                # The snapshot predates every diff we still hold: the updates in between are lost.
                self._synced = False
                return SnapshotOutcome(SyncVerdict.GAP, [], stale)
            ready.append(item)
            previous = last_id
            for index in range(1, len(self._buffer)):
                first_id, last_id, prev_id, item = self._buffer[index]
                if last_id <= previous:
                    stale += 1
                    continue
                if not self._continues(first_id, prev_id, previous):
                    # A hole inside the buffer: keep only what follows it for the next snapshot.
                    for _ in range(index):
                        self._buffer.popleft()
                    self._synced = False
                    return SnapshotOutcome(SyncVerdict.GAP, [], stale)
                ready.append(item)
                previous = last_id
            self._buffer.clear()
            self._last_id = previous
            self._awaiting_first = False
        else:
            self._last_id = last_update_id
            self._awaiting_first = True
        self._synced = True
        return SnapshotOutcome(SyncVerdict.APPLY, ready, stale)

    # ----------------------------------------------------------------------------------------------

    def _judge(self, first_id: int, last_id: int, prev_id: int | None) -> SyncVerdict:
        if self._awaiting_first:
            target = self._last_id + self._rule.snapshot_offset
            if last_id < target:
                return SyncVerdict.STALE
            return SyncVerdict.APPLY if first_id <= target else SyncVerdict.GAP
        if last_id <= self._last_id:
            # Everything in it is at or before what the book already reflects: a duplicate or replay.
            return SyncVerdict.STALE
        return SyncVerdict.APPLY if self._continues(first_id, prev_id, self._last_id) else SyncVerdict.GAP

    def _continues(self, first_id: int, prev_id: int | None, previous_last_id: int) -> bool:
        if self._rule.chain_via_prev_id:
            return prev_id == previous_last_id
        return first_id == previous_last_id + 1
