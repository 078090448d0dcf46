#pragma once
/// Latency and throughput of applying fills to positions (duplicate check included), measured inside
/// the core so no binding overhead is counted. Reuses the book's LatencyRun record; its `error` field
/// stays kOk and the position error is returned separately.
#include <cstdint>
#include <span>

#include "fastcore/common/clock.hpp"
#include "fastcore/perf/book_latency.hpp"
#include "fastcore/position/position_book.hpp"

namespace fastcore::perf {

/// Applies `fills` once with every fill timed alone, then `passes` more times untimed for throughput.
/// Untimed pass k (from 1) applies each fill with trade_id ^ (k << 48), so ids below 2^48 stay unique across
/// passes and every fill does real work instead of being refused as a duplicate. On a refused fill
/// the run stops and `error` says why.
inline LatencyRun measure_position_update(position::PositionBook& book, std::span<const position::Fill> fills,
                                          int passes, const common::CycleClock& clock,
                                          position::PositionError& error) {
  LatencyRun run;
  error = position::PositionError::kOk;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  for (const position::Fill& fill : fills) {
    const std::uint64_t t0 = common::CycleClock::start();
    const position::PositionError result = book.try_apply_fill(fill);
    const std::uint64_t t1 = common::CycleClock::stop();
    if (result != position::PositionError::kOk) {
      error = result;
      return run;
    }
    const std::uint64_t ticks = t1 - t0;
    run.histogram.record(clock.to_ns(ticks > overhead ? ticks - overhead : 0));
    ++run.timed_ops;
  }
  const std::int64_t start_ns = common::monotonic_ns();
  for (int pass = 1; pass <= passes; ++pass) {
    const std::uint64_t salt = static_cast<std::uint64_t>(pass) << 48;
    for (position::Fill fill : fills) {
      fill.trade_id ^= salt;
      if (const position::PositionError result = book.try_apply_fill(fill); result != position::PositionError::kOk) {
        error = result;
        return run;
      }
      ++run.throughput_ops;
    }
  }
  run.throughput_ns = common::monotonic_ns() - start_ns;
  return run;
}

}  // namespace fastcore::perf
