#pragma once
/// Latency and throughput of the pre-trade risk check, measured inside the core so no binding overhead is
/// counted. Reuses the book's LatencyRun record (its run fields stay empty, `error` stays kOk).
#include <array>
#include <cstdint>
#include <span>

#include "fastcore/common/clock.hpp"
#include "fastcore/perf/book_latency.hpp"
#include "fastcore/risk/risk_check.hpp"

namespace fastcore::perf {

/// Checks every request once timed alone against `markets[request.instrument_id]` (the caller ensures the
/// span covers every id), then `passes` more times untimed for throughput. `reasons[r]` counts the timed
/// decisions per RiskReason, so callers can assert the checks did real work on both sides.
inline LatencyRun measure_risk_check(const risk::RiskEngine& engine, std::span<const risk::OrderRequest> requests,
                                     std::span<const risk::MarketView> markets, int passes,
                                     const common::CycleClock& clock,
                                     std::array<std::uint64_t, risk::kRiskReasonCount>& reasons) {
  LatencyRun run;
  reasons.fill(0);
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  for (const risk::OrderRequest& request : requests) {
    const risk::MarketView& market = markets[request.instrument_id];
    const std::uint64_t t0 = common::CycleClock::start();
    const risk::RiskDecision decision = engine.try_check(request, market);
    const std::uint64_t t1 = common::CycleClock::stop();
    ++reasons[static_cast<std::size_t>(decision.reason)];
    const std::uint64_t ticks = t1 - t0;
    run.histogram.record(clock.to_ns(ticks > overhead ? ticks - overhead : 0));
    ++run.timed_ops;
  }
  std::uint64_t accepted = 0;  // Consumed below so the untimed checks cannot be optimised away.
  const std::int64_t start_ns = common::monotonic_ns();
  for (int pass = 0; pass < passes; ++pass) {
    for (const risk::OrderRequest& request : requests) {
      accepted += engine.try_check(request, markets[request.instrument_id]).ok() ? std::uint64_t{1} : std::uint64_t{0};
      ++run.throughput_ops;
    }
  }
  run.throughput_ns = common::monotonic_ns() - start_ns;
  asm volatile("" : : "r"(accepted) : "memory");
  return run;
}

}  // namespace fastcore::perf
