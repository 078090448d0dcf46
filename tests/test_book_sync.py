"""Binance book-sync state machine: both rules, stale and duplicate diffs, gaps and resyncs."""

from __future__ import annotations

import random

import pytest

from rentrade.venues.binance_usdm.book_sync import (
    FUTURES_RULE,
    SPOT_RULE,
    BookSync,
    SyncRule,
    SyncVerdict,
)

APPLY, BUFFERED, STALE, GAP = SyncVerdict.APPLY, SyncVerdict.BUFFERED, SyncVerdict.STALE, SyncVerdict.GAP


def futures_diff(first: int, last: int, prev: int) -> tuple[int, int, int | None, str]:
    return first, last, prev, f"{first}-{last}"


def spot_diff(first: int, last: int) -> tuple[int, int, int | None, str]:
    return first, last, None, f"{first}-{last}"


def feed(sync: BookSync[str], diffs: list[tuple[int, int, int | None, str]]) -> list[SyncVerdict]:
    return [sync.on_diff(*d) for d in diffs]


# --------------------------------------------------------------------------------------------------
# futures: stale u < L, first U <= L <= u, then pu == previous u


def test_futures_buffer_then_snapshot_then_chain() -> None:
    sync = BookSync[str](FUTURES_RULE)
    assert not sync.synced and sync.last_update_id is None
    # Futures diffs have gaps between U and the previous u (pu links them instead).
    diffs = [futures_diff(10, 20, 5), futures_diff(25, 30, 20), futures_diff(33, 40, 30)]
    assert feed(sync, diffs) == [BUFFERED] * 3
    assert sync.buffered == 3
    outcome = sync.on_snapshot(27)  # inside [25, 30]
    assert outcome.verdict is APPLY
    assert outcome.ready == ["25-30", "33-40"] and outcome.stale == 1
    assert sync.synced and sync.last_update_id == 40 and sync.buffered == 0
    assert sync.on_diff(*futures_diff(41, 50, 40)) is APPLY
    assert sync.last_update_id == 50


def test_futures_diff_ending_at_snapshot_id_is_applied_not_stale() -> None:
    # Futures drops only u < lastUpdateId; u == lastUpdateId straddles (U <= L <= u).
    sync = BookSync[str](FUTURES_RULE)
    feed(sync, [futures_diff(10, 20, 5), futures_diff(21, 30, 20)])
    outcome = sync.on_snapshot(20)
    assert outcome.ready == ["10-20", "21-30"] and outcome.stale == 0


def test_futures_snapshot_first_then_straddling_diff() -> None:
    sync = BookSync[str](FUTURES_RULE)
    outcome = sync.on_snapshot(100)
    assert outcome.verdict is APPLY and outcome.ready == [] and sync.synced
    assert sync.on_diff(*futures_diff(80, 99, 70)) is STALE
    assert sync.on_diff(*futures_diff(95, 105, 99)) is APPLY
    assert sync.on_diff(*futures_diff(106, 110, 105)) is APPLY


def test_futures_first_diff_after_snapshot_must_straddle() -> None:
    sync = BookSync[str](FUTURES_RULE)
    sync.on_snapshot(100)
    assert sync.on_diff(*futures_diff(101, 105, 100)) is GAP  # U > L: updates up to 100 were missed?
    assert not sync.synced


def test_futures_duplicates_are_stale() -> None:
    sync = BookSync[str](FUTURES_RULE)
    feed(sync, [futures_diff(10, 20, 5), futures_diff(10, 20, 5), futures_diff(21, 30, 20)])
    outcome = sync.on_snapshot(15)
    assert outcome.ready == ["10-20", "21-30"] and outcome.stale == 1  # the buffered duplicate
    assert sync.on_diff(*futures_diff(21, 30, 20)) is STALE  # a re-sent diff after sync
    assert sync.on_diff(*futures_diff(31, 40, 30)) is APPLY
    assert sync.on_diff(*futures_diff(31, 40, 30)) is STALE
    assert sync.last_update_id == 40


def test_futures_gap_unsyncs_and_keeps_the_diff_for_the_resync() -> None:
    sync = BookSync[str](FUTURES_RULE)
    sync.on_snapshot(10)
    assert sync.on_diff(*futures_diff(5, 20, 4)) is APPLY
    assert sync.on_diff(*futures_diff(30, 40, 25)) is GAP  # pu 25 != previous u 20
    assert not sync.synced and sync.last_update_id is None
    assert sync.buffered == 1
    assert sync.on_diff(*futures_diff(41, 50, 40)) is BUFFERED  # never applied while unsynced
    outcome = sync.on_snapshot(35)
    assert outcome.verdict is APPLY and outcome.ready == ["30-40", "41-50"]
    assert sync.synced and sync.last_update_id == 50


def test_futures_overlapping_diff_is_a_gap() -> None:
    sync = BookSync[str](FUTURES_RULE)
    sync.on_snapshot(10)
    sync.on_diff(*futures_diff(5, 20, 4))
    assert sync.on_diff(*futures_diff(15, 30, 14)) is GAP  # u moves on but pu does not link


def test_futures_snapshot_older_than_every_buffered_diff_is_a_gap() -> None:
    sync = BookSync[str](FUTURES_RULE)
    feed(sync, [futures_diff(50, 60, 45), futures_diff(61, 70, 60)])
    outcome = sync.on_snapshot(40)
    assert outcome.verdict is GAP and outcome.ready == [] and not sync.synced
    assert sync.buffered == 2  # kept: a newer snapshot can still use them
    assert sync.on_snapshot(55).ready == ["50-60", "61-70"]


def test_futures_hole_inside_the_buffer_is_a_gap() -> None:
    sync = BookSync[str](FUTURES_RULE)
    feed(sync, [futures_diff(10, 20, 5), futures_diff(31, 40, 30), futures_diff(41, 50, 40)])
    outcome = sync.on_snapshot(15)
    assert outcome.verdict is GAP and not sync.synced
    assert sync.buffered == 2  # what follows the hole is kept
    assert sync.on_snapshot(35).ready == ["31-40", "41-50"]


def test_futures_rule_needs_pu() -> None:
    with pytest.raises(ValueError, match="needs the diff's 'pu'"):
        BookSync[str](FUTURES_RULE).on_diff(1, 2, None, "x")


# --------------------------------------------------------------------------------------------------
# spot: stale u <= L, first U <= L+1 <= u, then U == previous u + 1


def test_spot_buffer_then_snapshot_then_chain() -> None:
    sync = BookSync[str](SPOT_RULE)
    assert feed(sync, [spot_diff(10, 20), spot_diff(21, 30), spot_diff(31, 40)]) == [BUFFERED] * 3
    outcome = sync.on_snapshot(25)
    assert outcome.ready == ["21-30", "31-40"] and outcome.stale == 1
    assert sync.on_diff(*spot_diff(41, 45)) is APPLY
    assert sync.on_diff(*spot_diff(47, 50)) is GAP  # U != previous u + 1
    assert not sync.synced


def test_spot_diff_ending_at_snapshot_id_is_stale() -> None:
    # The one place the rules differ at the boundary: spot drops u <= lastUpdateId.
    sync = BookSync[str](SPOT_RULE)
    feed(sync, [spot_diff(10, 20), spot_diff(21, 30)])
    outcome = sync.on_snapshot(20)
    assert outcome.ready == ["21-30"] and outcome.stale == 1


def test_spot_first_diff_must_contain_last_update_id_plus_one() -> None:
    sync = BookSync[str](SPOT_RULE)
    sync.on_snapshot(20)
    assert sync.on_diff(*spot_diff(15, 20)) is STALE
    assert sync.on_diff(*spot_diff(21, 25)) is APPLY  # U == L + 1

    sync = BookSync[str](SPOT_RULE)
    sync.on_snapshot(20)
    assert sync.on_diff(*spot_diff(22, 25)) is GAP  # update 21 is missing


def test_spot_duplicates_are_stale() -> None:
    sync = BookSync[str](SPOT_RULE)
    sync.on_snapshot(9)
    assert feed(sync, [spot_diff(10, 20), spot_diff(10, 20), spot_diff(15, 20), spot_diff(21, 22)]) == [
        APPLY,
        STALE,
        STALE,
        APPLY,
    ]


def test_spot_ignores_pu_even_when_given() -> None:
    sync = BookSync[str](SPOT_RULE)
    sync.on_snapshot(9)
    assert sync.on_diff(10, 20, 12345, "x") is APPLY
    assert sync.on_diff(21, 30, 999, "y") is APPLY


# --------------------------------------------------------------------------------------------------
# shared behaviour


@pytest.mark.parametrize("rule", [FUTURES_RULE, SPOT_RULE])
def test_buffer_limit_drops_oldest_and_a_snapshot_needing_them_gaps(rule: SyncRule) -> None:
    sync = BookSync[str](rule, max_buffered=2)
    for first in (10, 20, 30):
        sync.on_diff(first, first + 9, first - 1, f"{first}")
    assert sync.buffered == 2
    assert sync.on_snapshot(12).verdict is GAP  # needed the dropped 10-19
    assert sync.on_snapshot(25).ready == ["20", "30"]


@pytest.mark.parametrize("rule", [FUTURES_RULE, SPOT_RULE])
def test_reset_forgets_everything(rule: SyncRule) -> None:
    sync = BookSync[str](rule)
    sync.on_snapshot(5)
    sync.on_diff(1, 10, 5, "a")
    sync.reset()
    assert not sync.synced and sync.buffered == 0
    assert sync.on_diff(11, 12, 10, "b") is BUFFERED


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="U=5 > u=4"):
        BookSync[str](SPOT_RULE).on_diff(5, 4, None, "x")
    with pytest.raises(ValueError, match="max_buffered"):
        BookSync[str](SPOT_RULE, max_buffered=0)


@pytest.mark.parametrize("rule", [FUTURES_RULE, SPOT_RULE])
@pytest.mark.parametrize("seed", range(25))
def test_random_damaged_streams_only_ever_apply_the_true_next_diff(rule: SyncRule, seed: int) -> None:
    """Whatever is dropped, duplicated or swapped, each applied diff is the exchange's next one."""
    rng = random.Random(seed)
    # The exchange's stream for one symbol. Futures ids jump between diffs (the gaps are other
    # symbols' updates, linked by pu); spot ids are consecutive.
    truth: list[tuple[int, int, int]] = []
    last = 1000
    for _ in range(300):
        first = last + 1 if rule is SPOT_RULE else last + rng.randint(1, 5)
        truth.append((first, first + rng.randint(0, 10), last))
        last = truth[-1][1]
    index_of = {d: i for i, d in enumerate(truth)}

    # What the client sees: some diffs lost, some repeated, some neighbours swapped, and REST
    # snapshots taken at update ids the exchange had already reached.
    seen: list[tuple[int, int, int] | int] = []
    for diff in truth:
        roll = rng.random()
        if roll < 0.03:
            continue
        seen.append(diff)
        if roll > 0.97:
            seen.append(diff)
        if roll < 0.10:
            seen.append(rng.randint(max(1001, diff[1] - 30), diff[1]))
    for i in range(len(seen) - 1):
        if rng.random() < 0.02:
            seen[i], seen[i + 1] = seen[i + 1], seen[i]

    sync = BookSync[tuple[int, int, int]](rule)
    snapshot_id: int | None = None  # the book is at this snapshot ...
    after: int | None = None  # ... or right after truth[after]
    applied_total = 0
    for item in seen:
        if isinstance(item, int):
            outcome = sync.on_snapshot(item)
            snapshot_id, after = (item, None) if outcome.verdict is APPLY else (None, None)
            ready = outcome.ready
        else:
            verdict = sync.on_diff(*item, item)
            if verdict is GAP:
                snapshot_id, after = None, None
            ready = [item] if verdict is APPLY else []
        for diff in ready:
            j = index_of[diff]
            if snapshot_id is not None:
                target = snapshot_id + rule.snapshot_offset
                expected = next(k for k, d in enumerate(truth) if d[1] >= target)
            else:
                assert after is not None, "a diff was applied to a book that is not synced"
                expected = after + 1
            assert j == expected, f"applied truth[{j}] but the book needed truth[{expected}]"
            snapshot_id, after = None, j
            applied_total += 1
        assert sync.synced == (snapshot_id is not None or after is not None)
        if after is not None:
            assert sync.last_update_id == truth[after][1]
    assert applied_total > 0
