// Standalone microbenchmark of BinanceFeed::on_frame on frames dumped to a file (one frame a line; the
// first line may be a REST depth snapshot for instrument 0), without Python. Two modes:
//   feed_bench time <file> [repeats=5]      measure_binance_feed() (the in-core measurement behind
//                                           `rentrade bench --only-feed`), per-run and median p50s
//   feed_bench count <file> depth|ticker    one untimed pass over that kind of frame only, for
//                                           `valgrind --tool=callgrind` (instructions per on_frame call)
// Lines of the form `<digits> <frame>` (hftbacktest recordings, gunzipped) are read as their frame.
// The instrument is the synthetic stream's (BTCUSDT, tick 0.10, lot 0.001, USD-M); dump the frames with
//   python -c "from rentrade.bench.feed_bench import synthetic_frames as s;
//              open('frames.txt','wb').write(b'\n'.join(s().frames)+b'\n')"   (one line)
// Built only with -DRENTRADE_BUILD_BENCH=ON; never part of the default test run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fastcore/perf/binance_latency.hpp"

#include "bench_support.hpp"

using bench_support::median;

using namespace fastcore;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: feed_bench time <file> [repeats] | feed_bench count <file> depth|ticker\n");
    return 2;
  }
  const std::string mode = argv[1];
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 2;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string_view> frames;
  std::vector<perf::BenchFrameKind> kinds;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t stop = text.find('\n', at);
    if (stop == std::string::npos) stop = text.size();
    std::string_view frame(text.data() + at, stop - at);
    at = stop + 1;
    if (frame.empty()) continue;
    const std::size_t space = frame.find(' ');
    if (space != std::string_view::npos && space > 0 && frame.find_first_not_of("0123456789") == space) {
      frame.remove_prefix(space + 1);
    }
    perf::BenchFrameKind kind = perf::BenchFrameKind::kOther;
    if (frame.find("lastUpdateId") != std::string_view::npos) {
      kind = perf::BenchFrameKind::kSnapshot;
    } else if (frame.find("depthUpdate") != std::string_view::npos) {
      kind = perf::BenchFrameKind::kDepth;
    } else if (frame.find("bookTicker") != std::string_view::npos) {
      kind = perf::BenchFrameKind::kBookTicker;
    }
    frames.push_back(frame);
    kinds.push_back(kind);
  }
  common::Instrument instrument;
  instrument.symbol = "BTCUSDT";
  instrument.venue = "binance_usdm";
  if (common::try_parse_step("0.10", instrument.tick) != common::DecimalError::kOk ||
      common::try_parse_step("0.001", instrument.lot) != common::DecimalError::kOk) {
    return 2;
  }
  const std::vector<common::Instrument> instruments{instrument};
  const venue::BinanceFeedConfig config;

  if (mode == "time") {
    const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
    const common::CycleClock clock;
    std::vector<double> depth_p50, ticker_p50, depth_mean, ticker_mean;
    for (int r = 0; r < repeats; ++r) {
      const perf::FeedLatencyRun run = perf::measure_binance_feed(instruments, config, 4096, frames, kinds, 0, clock);
      if (run.bad_frames != 0 || run.gaps != 0) {
        std::fprintf(stderr, "bad frames %llu gaps %llu\n", static_cast<unsigned long long>(run.bad_frames),
                     static_cast<unsigned long long>(run.gaps));
        return 1;
      }
      depth_p50.push_back(static_cast<double>(run.depth.percentile(50)));
      ticker_p50.push_back(static_cast<double>(run.book_ticker.percentile(50)));
      depth_mean.push_back(run.depth.mean());
      ticker_mean.push_back(run.book_ticker.mean());
      std::printf("run %d depth p50 %5.0f p99 %5.0f mean %6.1f ns (%llu frames, %.1f levels) | bookTicker p50 %4.0f "
                  "p99 %4.0f mean %6.1f ns\n",
                  r + 1, depth_p50.back(), static_cast<double>(run.depth.percentile(99)), depth_mean.back(),
                  static_cast<unsigned long long>(run.depth_frames),
                  run.depth_frames ? static_cast<double>(run.depth_levels) / static_cast<double>(run.depth_frames) : 0.0,
                  ticker_p50.back(), static_cast<double>(run.book_ticker.percentile(99)), ticker_mean.back());
    }
    std::printf("median depth p50 %.0f mean %.1f ns | bookTicker p50 %.0f mean %.1f ns\n", median(depth_p50),
                median(depth_mean), median(ticker_p50), median(ticker_mean));
    return 0;
  }
  if (mode == "count" && argc > 3) {
    const bool depth = std::strcmp(argv[3], "depth") == 0;
    const perf::BenchFrameKind want = depth ? perf::BenchFrameKind::kDepth : perf::BenchFrameKind::kBookTicker;
    book::BookSet books(instruments.size(), 4096);
    venue::BinanceFeed feed(instruments, books, config);
    std::uint64_t calls = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (kinds[i] == perf::BenchFrameKind::kSnapshot) {
        (void)feed.apply_snapshot(0, frames[i], 0);
      } else if (kinds[i] == want) {
        (void)feed.on_frame(frames[i], 1);
        ++calls;
      }
    }
    std::printf("%llu on_frame calls, %llu bad, %llu applied diffs, %llu fast-path frames\n",
                static_cast<unsigned long long>(calls), static_cast<unsigned long long>(feed.counters().bad_frames),
                static_cast<unsigned long long>(feed.counters().applied_diffs),
                static_cast<unsigned long long>(feed.counters().fast_path_frames));
    return feed.counters().bad_frames == 0 ? 0 : 1;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
