#pragma once
/// Latency and throughput of applying events to books, measured inside the core so no binding
/// overhead is counted. Used by `rentrade bench`; the work is real: callers check the final books.
#include <cstdint>
#include <span>

#include "fastcore/book/book_set.hpp"
#include "fastcore/common/clock.hpp"
#include "fastcore/common/histogram.hpp"

namespace fastcore::perf {

struct LatencyRun {
  common::Histogram histogram;       ///< One sample per timed level update, ns, timer overhead removed.
  std::uint64_t timed_ops = 0;       ///< Level updates timed one by one.
  std::uint64_t throughput_ops = 0;  ///< Events applied in the untimed passes.
  std::int64_t throughput_ns = 0;    ///< Wall time of the untimed passes.
  double timer_overhead_ns = 0.0;    ///< Cost of an empty timer pair, subtracted from each sample.
  book::ApplyError error = book::ApplyError::kOk;
};

/// Applies `events` once with every level update (kDelta, kSnapshotLevel) timed alone, then `passes`
/// more times untimed for throughput. Other kinds are applied but not timed: they do no book work.
/// The stream should start with a kClear per instrument so every pass starts from the same state.
inline LatencyRun measure_book_apply(book::BookSet& books, std::span<const common::Event> events, int passes,
                                     const common::CycleClock& clock) {
  LatencyRun run;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  for (const common::Event& event : events) {
    if (event.instrument_id >= books.size()) {
      run.error = book::ApplyError::kUnknownBook;
      return run;
    }
    book::Book& target = books[event.instrument_id];
    const bool timed = event.kind == common::EventKind::kDelta || event.kind == common::EventKind::kSnapshotLevel;
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
