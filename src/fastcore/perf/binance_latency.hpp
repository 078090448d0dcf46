#pragma once
/// Latency of BinanceFeed::on_frame (parse, exact decimals, sync check, book update) per frame kind,
/// measured inside the core so no binding overhead is counted. Used by `rentrade bench`.
///
/// Each timed frame is first copied into one receive buffer, as the socket read does on the live path
/// (picows hands the parser bytes the kernel has just written), so the timing is the parser's and the
/// book's, not a DRAM miss on a frame last touched when the recording was loaded: the bench holds tens
/// of MB of frames, which on the live path never sit cold in memory.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "fastcore/book/book_set.hpp"
#include "fastcore/common/clock.hpp"
#include "fastcore/common/histogram.hpp"
#include "fastcore/venue/binance.hpp"

namespace fastcore::perf {

/// What a benchmark frame is; snapshots are applied untimed to instrument 0.
enum class BenchFrameKind : std::uint8_t { kOther = 0, kDepth = 1, kBookTicker = 2, kSnapshot = 3 };

struct FeedLatencyRun {
  common::Histogram depth;         ///< ns per depth frame applied to a live book (timer overhead removed).
  common::Histogram book_ticker;   ///< ns per bookTicker frame.
  std::uint64_t depth_frames = 0;  ///< Depth frames timed (applied to a live book).
  std::uint64_t depth_levels = 0;  ///< Price levels in those frames.
  std::uint64_t book_tickers = 0;
  std::uint64_t throughput_frames = 0;  ///< Frames in the untimed passes.
  std::int64_t throughput_ns = 0;
  double timer_overhead_ns = 0.0;
  std::uint64_t bad_frames = 0;    ///< Must stay 0: the work was done.
  std::uint64_t gaps = 0;          ///< Must stay 0 on a clean recording.
};

/// Replays `frames` through a fresh feed (books sized `max_levels`): once with every frame copied to the
/// receive buffer and timed alone, then `passes` more times untimed, frames read where they lie (a
/// fresh feed each pass) for throughput. `kinds[i]` says what
/// frames[i] is. Feeds and books are built outside the timed region.
inline FeedLatencyRun measure_binance_feed(const std::vector<common::Instrument>& instruments,
                                           venue::BinanceFeedConfig config, std::uint32_t max_levels,
                                           std::span<const std::string_view> frames,
                                           std::span<const BenchFrameKind> kinds, int passes,
                                           const common::CycleClock& clock) {
  FeedLatencyRun run;
  run.timer_overhead_ns = static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick();
  const std::uint64_t overhead = clock.overhead_ticks();
  {
    book::BookSet books(instruments.size(), max_levels);
    venue::BinanceFeed feed(instruments, books, config);
    std::size_t largest = 1;
    for (const std::string_view frame : frames) largest = std::max(largest, frame.size());
    std::vector<char> receive(largest);  // the socket's receive buffer
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (kinds[i] == BenchFrameKind::kSnapshot) {
        (void)feed.apply_snapshot(0, frames[i], 0);
        continue;
      }
      std::memcpy(receive.data(), frames[i].data(), frames[i].size());
      const std::string_view frame(receive.data(), frames[i].size());
      const std::uint64_t applied_before = feed.counters().applied_diffs;
      const std::uint64_t t0 = common::CycleClock::start();
      const venue::FrameStatus status = feed.on_frame(frame, 1);
      const std::uint64_t t1 = common::CycleClock::stop();
      const std::uint64_t ns = clock.to_ns(t1 - t0 > overhead ? t1 - t0 - overhead : 0);
      (void)status;
      if (kinds[i] == BenchFrameKind::kDepth && feed.counters().applied_diffs > applied_before) {
        run.depth.record(ns);
        ++run.depth_frames;
        run.depth_levels += feed.last_events().size();
      } else if (kinds[i] == BenchFrameKind::kBookTicker) {
        run.book_ticker.record(ns);
        ++run.book_tickers;
      }
    }
    run.bad_frames = feed.counters().bad_frames;
    run.gaps = feed.counters().gaps;
  }
  for (int pass = 0; pass < passes; ++pass) {
    book::BookSet books(instruments.size(), max_levels);
    venue::BinanceFeed feed(instruments, books, config);
    const std::int64_t start_ns = common::monotonic_ns();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (kinds[i] == BenchFrameKind::kSnapshot) {
        (void)feed.apply_snapshot(0, frames[i], 0);
      } else {
        (void)feed.on_frame(frames[i], 1);
      }
    }
    run.throughput_ns += common::monotonic_ns() - start_ns;
    run.throughput_frames += frames.size();
  }
  return run;
}

}  // namespace fastcore::perf
