#pragma once
/// Latency of the C++ half of wire-to-order with warm caches and no socket: one Binance depth frame
/// through BinanceTrader::on_frame (parse, book, signal, strategy, risk, encode and sign). Each order
/// is answered at once with a kCancelled report (an expired IOC), untimed, so the strategy trades on
/// every crossing frame. Reuses the book's LatencyRun record.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fastcore/common/clock.hpp"
#include "fastcore/perf/book_latency.hpp"
#include "fastcore/venue/binance_trader.hpp"

namespace fastcore::perf {

/// Feeds `frames` (in order: they continue each other's update ids) through `trader`, each on_frame
/// timed alone on `clock` with the timer overhead removed. `orders` receives the requests produced and
/// `bytes` their total length (proof the work was done); returns early with `status` != kOk at the
/// first frame the feed did not read as market data.
inline LatencyRun measure_trader(venue::BinanceTrader& trader, std::span<const std::string_view> frames,
                                 std::int64_t ts_local_ns, const common::CycleClock& clock,
                                 venue::FrameStatus& status, std::uint64_t& orders, std::uint64_t& bytes) {
  LatencyRun run;
  status = venue::FrameStatus::kOk;
  orders = 0;
  bytes = 0;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  std::vector<engine::ExecutionReport> reports;
  reports.reserve(16);
  const std::int64_t start_ns = common::monotonic_ns();
  for (const std::string_view frame : frames) {
    const std::uint64_t t0 = common::CycleClock::start();
    const int result = trader.on_frame(frame.data(), frame.size(), ts_local_ns);
    const std::uint64_t t1 = common::CycleClock::stop();
    if (result != static_cast<int>(venue::FrameStatus::kOk)) {
      status = static_cast<venue::FrameStatus>(result);
      return run;
    }
    const std::uint64_t ticks = t1 - t0;
    run.histogram.record(clock.to_ns(ticks > overhead ? ticks - overhead : 0));
    ++run.timed_ops;
    reports.clear();
    for (std::size_t i = 0; i < trader.pending(); ++i) {
      bytes += trader.request_size(i);
      reports.push_back(engine::report_without_fill(trader.pending_intent(i), engine::ReportKind::kCancelled,
                                                    engine::ReportReason::kNoLiquidity, ts_local_ns));
    }
    orders += trader.pending();
    trader.mark_sent();
    if (!reports.empty()) (void)trader.on_reports(reports, ts_local_ns);
    ts_local_ns += 1'000'000;  // frames 1 ms apart
  }
  run.throughput_ops = run.timed_ops;
  run.throughput_ns = common::monotonic_ns() - start_ns;
  return run;
}

}  // namespace fastcore::perf
