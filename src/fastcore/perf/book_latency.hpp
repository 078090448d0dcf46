#pragma once
/// Latency and throughput of applying events to books, measured inside the core so no binding
/// overhead is counted. Used by `rentrade bench`; the work is real: callers check the final books.
#include <cstdint>
#include <span>

#include "fastcore/book/book_set.hpp"
#include "fastcore/common/clock.hpp"
#include "fastcore/common/histogram.hpp"

namespace fastcore::perf {

/// Level updates per timed run in the second latency measurement (see measure_book_apply).
inline constexpr int kRunLength = 16;

struct LatencyRun {
  common::Histogram histogram;       ///< One sample per timed level update (kDelta), ns, timer overhead removed.
  std::uint64_t timed_ops = 0;       ///< Level updates (kDelta) timed one by one.
  /// One sample per run of up to kRunLength consecutive level updates: the run's time, minus one timer
  /// overhead, divided by its updates (ns, rounded). Fenced timer reads cost ~20-30 ns and tick in
  /// 10 ns steps on some hosts, more than a ~5 ns update; a run spreads that error over 16 updates.
  common::Histogram run_histogram;
  std::uint64_t run_updates = 0;     ///< Level updates timed in runs.
  double per_update_in_runs_ns = 0;  ///< Mean over all runs: total run time / run_updates.
  std::uint64_t throughput_ops = 0;  ///< Events applied in the untimed passes.
  std::int64_t throughput_ns = 0;    ///< Wall time of the untimed passes.
  double timer_overhead_ns = 0.0;    ///< Cost of an empty timer pair, subtracted from each sample.
  book::ApplyError error = book::ApplyError::kOk;
};

/// Applies `events` once with every level update of the order flow (kDelta) timed alone, once more timed
/// in runs of kRunLength consecutive level updates (trade and BBO records between them are applied
/// inside the run but not counted: they do no book work; a kClear or snapshot level ends the run and is
/// applied untimed), then `passes` more times untimed for throughput through BookSet::try_apply (the
/// batch path, which prefetches). Neither timed pass prefetches: each update pays what it pays on a live
/// feed. Opening snapshots are not timed: they fill each book in price order (no removals, no trades in
/// between, the next slot already cached), so with many books, where they are most of the stream, they
/// would stand in for live order flow at a fraction of its cost.
/// The stream should start with a kClear per instrument so every pass starts from the same state.
inline LatencyRun measure_book_apply(book::BookSet& books, std::span<const common::Event> events, int passes,
                                     const common::CycleClock& clock) {
  LatencyRun run;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  // The books' address and count as locals: read through the BookSet, GCC reloads them after every
  // update (a store into a book could alias the vector's own pointers), inside the timed runs.
  book::Book* const data = books.size() != 0 ? &books[0] : nullptr;
  const std::size_t count = books.size();
  for (const common::Event& event : events) {
    if (event.instrument_id >= count) {
      run.error = book::ApplyError::kUnknownBook;
      return run;
    }
    book::Book& target = data[event.instrument_id];
    const bool timed = event.kind == common::EventKind::kDelta;
    const std::uint64_t t0 = common::CycleClock::start();
    const book::ApplyError error = target.try_apply(event);
    const std::uint64_t t1 = common::CycleClock::stop();
    if (error != book::ApplyError::kOk) {
      run.error = error;
      return run;
    }
    if (timed) {
      const std::uint64_t ticks = t1 - t0;
      run.histogram.record(clock.to_ns(ticks > overhead ? ticks - overhead : 0));
      ++run.timed_ops;
    }
  }
  std::uint64_t run_ticks_total = 0;
  std::size_t i = 0;
  while (i < events.size()) {
    std::size_t end = i;
    int updates = 0;
    const std::uint64_t t0 = common::CycleClock::start();
    for (; end < events.size() && updates < kRunLength; ++end) {
      const common::Event& event = events[end];
      if (event.instrument_id >= count) {
        run.error = book::ApplyError::kUnknownBook;
        return run;
      }
      if (event.kind == common::EventKind::kClear || event.kind == common::EventKind::kSnapshotLevel) break;
      const book::ApplyError error = data[event.instrument_id].try_apply(event);
      if (error != book::ApplyError::kOk) {
        run.error = error;
        return run;
      }
      updates += event.kind == common::EventKind::kDelta;
    }
    const std::uint64_t t1 = common::CycleClock::stop();
    if (updates > 0) {
      const std::uint64_t ticks = t1 - t0 > overhead ? t1 - t0 - overhead : 0;
      run_ticks_total += ticks;
      run.run_updates += static_cast<std::uint64_t>(updates);
      run.run_histogram.record(clock.to_ns(ticks / static_cast<std::uint64_t>(updates)));
    }
    // Clears and snapshot levels, untimed.
    for (; end < events.size() && (events[end].kind == common::EventKind::kClear ||
                                   events[end].kind == common::EventKind::kSnapshotLevel);
         ++end) {
      if (events[end].instrument_id >= count) {
        run.error = book::ApplyError::kUnknownBook;
        return run;
      }
      const book::ApplyError error = data[events[end].instrument_id].try_apply(events[end]);
      if (error != book::ApplyError::kOk) {
        run.error = error;
        return run;
      }
    }
    i = end;
  }
  if (run.run_updates > 0) {
    run.per_update_in_runs_ns = static_cast<double>(run_ticks_total) * clock.ns_per_tick() /
                                static_cast<double>(run.run_updates);
  }

  const std::int64_t start_ns = common::monotonic_ns();
  for (int pass = 0; pass < passes; ++pass) {
    const book::BatchResult result = books.try_apply(events);
    run.throughput_ops += result.applied;
    if (result.error != book::ApplyError::kOk) {
      run.error = result.error;
      return run;
    }
  }
  run.throughput_ns = common::monotonic_ns() - start_ns;
  return run;
}

}  // namespace fastcore::perf
