#pragma once
/// Latency of encoding (and, with a MAC, signing) one order request in the core, with no binding cost:
/// the C++ half of wire-to-order. Reuses the book's LatencyRun record; `error` stays kOk and an encode
/// refusal is returned separately.
#include <array>
#include <cstdint>
#include <span>

#include "fastcore/common/clock.hpp"
#include "fastcore/perf/book_latency.hpp"
#include "fastcore/venue/binance_orders.hpp"

namespace fastcore::perf {

/// Encodes `intents` once with every request timed alone, then `passes` more times untimed for
/// throughput. `bytes` receives the total request length of the timed pass (proof the work was done).
/// Stops at the first refused intent and returns it in `error`.
inline LatencyRun measure_order_encode(const venue::BinanceOrderEncoder& encoder,
                                       std::span<const engine::OrderIntent> intents, std::int64_t timestamp_ms,
                                       int passes, const common::CycleClock& clock, venue::EncodeError& error,
                                       std::uint64_t& bytes) {
  LatencyRun run;
  error = venue::EncodeError::kOk;
  bytes = 0;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  std::array<char, venue::BinanceOrderEncoder::kMaxRequestBytes> out{};
  std::size_t length = 0;
  for (const engine::OrderIntent& intent : intents) {
    const std::uint64_t t0 = common::CycleClock::start();
    const venue::EncodeError result = encoder.try_encode(intent, timestamp_ms, out, length);
    const std::uint64_t t1 = common::CycleClock::stop();
    if (result != venue::EncodeError::kOk) {
      error = result;
      return run;
    }
    bytes += length;
    const std::uint64_t ticks = t1 - t0;
    run.histogram.record(clock.to_ns(ticks > overhead ? ticks - overhead : 0));
    ++run.timed_ops;
  }
  const std::int64_t start_ns = common::monotonic_ns();
  for (int pass = 0; pass < passes; ++pass) {
    for (const engine::OrderIntent& intent : intents) {
      if (encoder.try_encode(intent, timestamp_ms, out, length) != venue::EncodeError::kOk) return run;
      ++run.throughput_ops;
    }
  }
  run.throughput_ns = common::monotonic_ns() - start_ns;
  return run;
}

}  // namespace fastcore::perf
