// The simulated venue's and the backtest loop's cost per event, without Python.
// Usage: sim_bench [runs] [--data FILE] [--only book|venue|loop|engine]
//   FILE: raw 64-byte event records of one instrument with tick 0.1 and lot 0.001 (numpy's
//   `events.tofile(FILE)` of rentrade.backtest.load_market's array, e.g. the BTCUSDT recording);
//   default: 2,000,000 synthetic events.
// Stages, run alternately per run (book, venue, loop, engine, book, ...) so a noisy host affects all alike:
//   book    a bare Book::try_apply loop;
//   venue   SimulatedExchange::on_events with no orders;
//   loop    the backtest loop and the venue with no strategy;
//   engine  the backtest loop driving the engine (bracket strategy, imbalance 1.0, threshold 0.5, 10 lots,
//           timing off; venue 2 / 5 bps, 1 ms each way, clock offset as run_backtest's): `python -m rentrade.bench.backtest_bench`'s
//           "built-in strategy" row in C++.
// The medians are the figures to read. --only runs one stage (for callgrind).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fastcore/book/book.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/engine/engine.hpp"
#include "fastcore/sim/backtest.hpp"
#include "fastcore/sim/engine_strategy.hpp"
#include "fastcore/sim/exchange.hpp"
#include "fastcore/sim/synthetic_market.hpp"

#include "bench_support.hpp"

using bench_support::median;

namespace {

using Clock = std::chrono::steady_clock;
using fastcore::common::Event;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "sim_bench: %s\n", what);
  std::exit(1);
}

std::vector<Event> read_events(const char* path) {
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) fail("cannot open the events file");
  std::fseek(file, 0, SEEK_END);
  const long bytes = std::ftell(file);
  std::fseek(file, 0, SEEK_SET);
  std::vector<Event> events(bytes > 0 ? static_cast<std::size_t>(bytes) / sizeof(Event) : 0);
  if (std::fread(events.data(), sizeof(Event), events.size(), file) != events.size()) fail("short read");
  std::fclose(file);
  if (events.empty()) fail("the events file has no events");
  return events;
}

// rentrade.backtest.clock_offset_ns of the events, as run_backtest uses it: min(0, min(local - exchange)),
// so a recording whose recorder clock was behind the exchange's (BTCUSDT: 1.27 s) is not matched with every
// intent late. 0 for the synthetic market.
std::int64_t g_clock_offset_ns = 0;

std::int64_t clock_offset_of(const std::vector<Event>& events) {
  std::int64_t offset = 0;
  for (const Event& event : events) {
    if (event.ts_exchange_ns != 0) offset = std::min(offset, event.ts_local_ns - event.ts_exchange_ns);
  }
  return offset;
}

fastcore::sim::ExchangeConfig venue_config(std::int64_t notional_factor) {
  fastcore::sim::ExchangeConfig config;
  config.clock_offset_ns = g_clock_offset_ns;
  config.instruments.push_back({2 * 10'000, 5 * 10'000, notional_factor});
  config.order_latency.lo_ns = 1'000'000;
  config.response_latency.lo_ns = 1'000'000;
  return config;
}

double book_run(const std::vector<Event>& events, std::uint64_t& check) {
  fastcore::book::Book book;
  const auto t0 = Clock::now();
  for (const auto& event : events) check += book.try_apply(event) == fastcore::book::ApplyError::kOk;
  const auto t1 = Clock::now();
  check += static_cast<std::uint64_t>(book.updates());
  return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

double venue_run(const std::vector<Event>& events, std::uint64_t& check) {
  fastcore::sim::SimulatedExchange venue(venue_config(1));
  fastcore::sim::ExchangeError error = fastcore::sim::ExchangeError::kOk;
  const auto t0 = Clock::now();
  check += venue.on_events(events, error);
  const auto t1 = Clock::now();
  if (error != fastcore::sim::ExchangeError::kOk) fail("the venue refused an event");
  check += static_cast<std::uint64_t>(venue.book(0).updates());
  return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

// The backtest loop with no strategy (with_engine false) or driving the engine; checks the run's trades.
double backtest_run(const std::vector<Event>& events, bool with_engine, std::uint64_t& check) {
  fastcore::common::Instrument instrument;
  fastcore::common::InstrumentField failed{};
  if (fastcore::common::try_make_instrument("BENCH-PERP", "bench", "0.1", "0.001", "0", "0", "1", false, instrument,
                                            failed) != fastcore::common::DecimalError::kOk) {
    fail("bad instrument");
  }
  fastcore::sim::SimulatedExchange exchange(venue_config(static_cast<std::int64_t>(instrument.notional_factor())));
  fastcore::engine::BracketStrategy bracket;
  fastcore::engine::BracketConfig bracket_config;
  bracket_config.fixed_qty_lots = 10;
  bracket_config.stop_distance = 10;
  if (bracket.try_configure(bracket_config) != fastcore::engine::BracketError::kOk) fail("bad bracket");
  fastcore::engine::Engine engine;
  fastcore::engine::EngineConfig engine_config;
  engine_config.timing = false;
  if (engine.try_init(std::span<const fastcore::common::Instrument>(&instrument, 1), engine_config, &bracket) !=
      fastcore::engine::EngineError::kOk) {
    fail("engine init");
  }
  (void)engine.composite().try_set_weight(fastcore::signal::Feature::kImbalance, 1.0);
  (void)engine.composite().try_set_threshold(0.5);
  fastcore::sim::EngineStrategy engine_strategy(engine);
  struct Nothing final : fastcore::sim::Strategy {
    void on_events(std::span<const Event>, std::vector<fastcore::sim::OrderIntent>&) override {}
    void on_reports(std::span<const fastcore::sim::ExecutionReport>, std::vector<fastcore::sim::OrderIntent>&) override {}
  } nothing;
  fastcore::sim::Strategy& strategy = with_engine ? static_cast<fastcore::sim::Strategy&>(engine_strategy) : nothing;
  fastcore::sim::Backtest loop(exchange, strategy, fastcore::sim::BacktestConfig{});
  const auto t0 = Clock::now();
  std::size_t applied = 0;
  if (loop.try_run(events, applied) != fastcore::sim::ExchangeError::kOk) fail("the backtest refused an event");
  loop.finish();
  const auto t1 = Clock::now();
  check += applied + loop.ledger().trips().size() + exchange.stats().fills;
  if (with_engine) {
    // A digest of what must not change with the code's speed: the round trips byte for byte, the
    // engine's P&L and counters (compare it between builds).
    std::uint64_t digest = 1469598103934665603ULL;
    const auto mix = [&digest](const void* data, std::size_t size) {
      for (std::size_t k = 0; k < size; ++k) digest = (digest ^ static_cast<const unsigned char*>(data)[k]) * 1099511628211ULL;
    };
    mix(loop.ledger().trips().data(), loop.ledger().trips().size() * sizeof(fastcore::sim::RoundTrip));
    const __int128 pnl = engine.day_pnl(-1);
    mix(&pnl, sizeof pnl);
    mix(&engine.counters(), sizeof(fastcore::engine::EngineCounters));
    std::printf("  engine run: %zu round trips, %llu fills, %llu intents, %llu spans, P&L %lld, digest %016llx\n",
                loop.ledger().trips().size(), static_cast<unsigned long long>(exchange.stats().fills),
                static_cast<unsigned long long>(exchange.stats().intents),
                static_cast<unsigned long long>(loop.stats().spans), static_cast<long long>(pnl),
                static_cast<unsigned long long>(digest));
  }
  return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  const char* data = nullptr;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      data = argv[++i];
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      runs = std::max(1, std::atoi(argv[i]));
    }
  }
  std::vector<Event> events;
  if (data != nullptr) {
    events = read_events(data);
  } else {
    fastcore::sim::SyntheticMarket market(fastcore::sim::SyntheticMarketConfig{});
    events.resize(2'000'000);
    market.generate(events);
  }
  g_clock_offset_ns = clock_offset_of(events);
  const char* names[] = {"book", "venue", "loop", "engine"};
  std::vector<double> ns[4];
  std::uint64_t check = 0;
  const auto per_event = [&](double total) { return total / static_cast<double>(events.size()); };
  for (int run = 0; run < runs; ++run) {
    std::printf("run %d:", run + 1);
    for (int stage = 0; stage < 4; ++stage) {
      if (!only.empty() && only != names[stage]) continue;
      double total = 0;
      switch (stage) {
        case 0:
          total = book_run(events, check);
          break;
        case 1:
          total = venue_run(events, check);
          break;
        default:
          total = backtest_run(events, stage == 3, check);
          break;
      }
      ns[stage].push_back(per_event(total));
      std::printf(" %s %.1f ns/event", names[stage], ns[stage].back());
    }
    std::printf("\n");
  }
  std::printf("median (%zu events, checksum %llu):", events.size(), static_cast<unsigned long long>(check));
  for (int stage = 0; stage < 4; ++stage) {
    if (ns[stage].empty()) continue;
    std::printf(" %s %.1f ns/event (%.1f M/s)", names[stage], median(ns[stage]), 1e3 / median(ns[stage]));
  }
  std::printf("\n");
  return 0;
}
