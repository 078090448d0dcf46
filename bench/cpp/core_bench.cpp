// The decision pipeline's in-core measurements (the same fastcore::perf functions `rentrade bench` calls)
// and the 1,000-instrument engine, without Python, so a change to the core can be measured without
// rebuilding the bindings. Usage: core_bench [runs] [stage...], stages: signal position position-shuffled risk
// engine engine-cold. (The engine-driven backtest is sim_bench's `engine` stage.)
// Each run prints p50/p99/p99.9 (ns, timer overhead removed) or events/s; the medians come last.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fastcore/common/instrument.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/engine/engine.hpp"
#include "fastcore/perf/position_latency.hpp"
#include "fastcore/perf/risk_latency.hpp"
#include "fastcore/perf/signal_latency.hpp"
#include "fastcore/sim/synthetic_market.hpp"

#include "bench_support.hpp"

using bench_support::median;

namespace {

using fastcore::common::Event;
using fastcore::common::Instrument;

Instrument make_instrument(const std::string& symbol, const std::string& venue) {
  Instrument out;
  fastcore::common::InstrumentField failed{};
  if (fastcore::common::try_make_instrument(symbol, venue, "0.1", "0.001", "0", "0", "1", false, out, failed) !=
      fastcore::common::DecimalError::kOk) {
    std::fprintf(stderr, "core_bench: bad instrument\n");
    std::exit(1);
  }
  return out;
}

std::vector<Event> synthetic(std::uint32_t instruments, std::size_t count, std::uint64_t seed) {
  fastcore::sim::SyntheticMarketConfig config;
  config.instruments = instruments;
  config.seed = seed;
  fastcore::sim::SyntheticMarket market(config);
  std::vector<Event> events(count);
  market.generate(events);
  return events;
}

std::string symbol_of(std::uint32_t i) {
  std::string symbol(1, 'S');  // appended, not "S" + ...: GCC 12 warns falsely (-Wrestrict) on that form
  symbol += std::to_string(i);
  return symbol;
}

struct Figures {
  double p50 = 0, p99 = 0, p999 = 0, rate = 0, mean = 0;
};

// Mean of the samples at or below the 95th percentile (bucket midpoints): finer than p50 (the cycle
// counter ticks in ~10 ns steps here) and, unlike the mean, not moved by interrupts on a shared host.
double trimmed_mean(const fastcore::common::Histogram& h) {
  const auto& counts = h.counts();
  const auto keep = static_cast<std::uint64_t>(0.95 * static_cast<double>(h.count()));
  std::uint64_t seen = 0;
  double sum = 0;
  for (std::size_t i = 0; i < counts.size() && seen < keep; ++i) {
    const std::uint64_t take = std::min(counts[i], keep - seen);
    sum += static_cast<double>(take) * 0.5 *
           static_cast<double>(fastcore::common::Histogram::lowest_in_bucket(i) + fastcore::common::Histogram::highest_in_bucket(i));
    seen += take;
  }
  return seen == 0 ? 0.0 : sum / static_cast<double>(seen);
}

Figures figures(const fastcore::perf::LatencyRun& run) {
  Figures f;
  f.p50 = static_cast<double>(run.histogram.percentile(50));
  f.p99 = static_cast<double>(run.histogram.percentile(99));
  f.p999 = static_cast<double>(run.histogram.percentile(99.9));
  f.mean = trimmed_mean(run.histogram);
  f.rate = run.throughput_ns > 0 ? static_cast<double>(run.throughput_ops) * 1e3 / static_cast<double>(run.throughput_ns) : 0;
  return f;
}

Figures signal_run(const std::vector<Event>& events, const fastcore::common::CycleClock& clock) {
  fastcore::book::BookSet books(1);
  fastcore::signal::SignalSet signals(1, fastcore::signal::FeatureConfig{});
  fastcore::signal::Composite composite;
  (void)composite.try_set_weight(fastcore::signal::Feature::kImbalance, 0.5);
  (void)composite.try_set_weight(fastcore::signal::Feature::kMicroOffset, 0.3);
  (void)composite.try_set_weight(fastcore::signal::Feature::kTradeFlow, 0.2);
  (void)composite.try_set_threshold(0.5);
  std::uint64_t decisions = 0;
  const auto run = fastcore::perf::measure_signal_update(books, signals, composite, events, 3, clock, decisions);
  // The decisions are read (at most one per event and pass): unread, GCC dropped the composite's sum
  // from the inlined harness, and core_bench timed less than the extension's harness does.
  if (run.error != fastcore::book::ApplyError::kOk || signals[0].book_updates() == 0 || decisions > 4 * events.size()) {
    std::exit(2);
  }
  return figures(run);
}

// `shuffled`: trade ids in random order instead of increasing (as venues number them), so nearly every
// fill is at or below its instrument's largest id and takes PositionBook's lookup path.
Figures position_run(std::uint32_t instruments, std::uint64_t seed, const fastcore::common::CycleClock& clock,
                     bool shuffled = false) {
  std::vector<Instrument> listed;
  for (std::uint32_t i = 0; i < instruments; ++i) listed.push_back(make_instrument(symbol_of(i), i % 2 ? "binance" : "okx"));
  fastcore::position::PositionBook book;
  if (book.try_init(listed, {}) != fastcore::position::PositionError::kOk) std::exit(3);
  fastcore::sim::Rng rng(seed);
  std::vector<fastcore::position::Fill> fills(200'000);
  std::int64_t px = 600'000;
  for (std::size_t i = 0; i < fills.size(); ++i) {
    auto& f = fills[i];
    f = {};
    f.instrument_id = static_cast<std::uint32_t>(rng.below(instruments));
    f.venue_id = static_cast<std::uint8_t>(book.venue_of(f.instrument_id));
    f.side = rng.below(2) ? fastcore::common::Side::kAsk : fastcore::common::Side::kBid;
    f.liquidity = rng.below(2) ? fastcore::position::Liquidity::kTaker : fastcore::position::Liquidity::kMaker;
    px += static_cast<std::int64_t>(rng.below(41)) - 20;
    f.px_ticks = px;
    f.qty_lots = 1 + static_cast<std::int64_t>(rng.below(99));
    f.fee_units = static_cast<std::int64_t>(rng.below(600)) - 100;
    f.trade_id = i + 1;
  }
  if (shuffled) {
    for (std::size_t i = fills.size() - 1; i > 0; --i) std::swap(fills[i].trade_id, fills[rng.below(i + 1)].trade_id);
  }
  fastcore::position::PositionError error{};
  const auto run = fastcore::perf::measure_position_update(book, fills, 3, clock, error);
  if (error != fastcore::position::PositionError::kOk) std::exit(4);
  return figures(run);
}

Figures risk_run(std::uint32_t instruments, std::uint64_t seed, const fastcore::common::CycleClock& clock) {
  using namespace fastcore::risk;
  std::vector<Instrument> listed;
  for (std::uint32_t i = 0; i < instruments; ++i) listed.push_back(make_instrument(symbol_of(i), i % 2 ? "binance" : "okx"));
  RiskEngine risk;
  if (risk.try_init(listed, 4 * instruments + 16) != OrderError::kOk) std::exit(5);
  const std::int64_t mid = 600'000;
  // Money units at scale 4 (0.1 x 0.001): 5,000 quote = 5,000 x 10^4.
  const std::int64_t unit = 10'000;
  for (std::uint32_t i = 0; i < instruments; ++i) {
    InstrumentLimits l;
    l.min_qty_lots = 1;
    l.max_qty_lots = 90;
    l.max_order_notional = 5'000 * unit;
    l.collar_mid_bps = 100;
    l.collar_last_bps = 150;
    l.max_long_lots = 1'000;
    l.max_short_lots = 1'000;
    l.max_open_orders = 50;
    l.max_gross_notional = 1'000'000 * unit;
    l.stale_after_ns = 1'000'000'000;
    l.throttle = {1'000'000, 1'000};
    if (risk.try_set_limits(i, l) != OrderError::kOk) std::exit(6);
    (void)risk.try_set_position(i, i % 2 == 0 ? 100 : -100, mid);
    (void)risk.on_order_sent(2 * i + 1, {0, mid - 1'000, 10, i, fastcore::common::Side::kBid, false});
    (void)risk.on_order_sent(2 * i + 2, {0, mid + 1'000, 10, i, fastcore::common::Side::kAsk, false});
  }
  ScopeLimits venue;
  venue.max_gross_notional = 100'000'000 * unit;
  venue.throttle = {1'000'000, 1'000};
  for (std::uint32_t v = 0; v < risk.venues().size(); ++v) (void)risk.try_set_venue_limits(v, venue);
  ScopeLimits global;
  global.max_gross_notional = 1'000'000'000 * unit;
  global.daily_loss_reduce = 10'000 * unit;
  global.daily_loss_halt = 20'000 * unit;
  (void)risk.try_set_global_limits(global);
  const std::int64_t ts = 1'700'000'000'000'000'000;
  std::vector<MarketView> markets(instruments);
  for (MarketView& v : markets) {
    v.bid_px_ticks = mid - 1;
    v.ask_px_ticks = mid + 1;
    v.has_bid = v.has_ask = v.has_last_trade = true;
    v.last_trade_px_ticks = mid;
    v.book_ts_local_ns = ts;
  }
  fastcore::sim::Rng rng(seed);
  std::vector<OrderRequest> requests(200'000);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    OrderRequest& r = requests[i];
    r.instrument_id = static_cast<std::uint32_t>(rng.below(instruments));
    r.side = rng.below(2) ? fastcore::common::Side::kAsk : fastcore::common::Side::kBid;
    const std::int64_t range = mid / 50 + 1;
    r.px_ticks = mid - range + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * range + 1)));
    r.qty_lots = 1 + static_cast<std::int64_t>(rng.below(100));
    r.ts_ns = ts + static_cast<std::int64_t>(i) * 1000;
  }
  std::array<std::uint64_t, kRiskReasonCount> reasons{};
  const auto run = fastcore::perf::measure_risk_check(risk, requests, markets, 3, clock, reasons);
  if (reasons[0] == 0 || reasons[0] == requests.size()) std::exit(7);
  return figures(run);
}

// The engine with 1,000 instruments live, the shape of `rentrade bench`'s engine rows: opening snapshots
// first, then 1,000,000 order-flow events in slices of 4,096; after each slice the intents are answered
// the way rentrade.bench.engine_bench's harness answers them (IOC -> full fill at its limit, GTC -> ack,
// cancel -> cancelled), so the risk and position stages have samples. `pollute_bytes` > 0 walks a buffer
// of that size between engine calls, as the Python driver's interpreter and numpy do: it shows what the
// stages cost when their state is not in cache. Figures: the engine's own stage histograms.
struct EngineFigures {
  std::array<double, fastcore::engine::kStageCount> p50{}, p99{};
  std::array<std::uint64_t, fastcore::engine::kStageCount> count{};
};

void answer(fastcore::engine::Engine& engine, std::int64_t ts_ns, std::uint64_t& trade_id,
            std::vector<fastcore::engine::ExecutionReport>& reports) {
  using namespace fastcore::engine;
  reports.clear();
  for (const OrderIntent& intent : engine.intents()) {
    const bool ioc = intent.kind == IntentKind::kNew && intent.tif == TimeInForce::kIoc;
    ExecutionReport report =
        report_without_fill(intent, intent.kind == IntentKind::kCancel ? ReportKind::kCancelled : ReportKind::kAck,
                            ReportReason::kNone, ts_ns);
    if (ioc) {
      report.kind = ReportKind::kFill;
      report.qty_lots = intent.qty_lots;
      report.trade_id = ++trade_id;
      report.liquidity = FillLiquidity::kTaker;
    }
    reports.push_back(report);
  }
  engine.clear_intents();
}

void pollute(std::vector<std::uint64_t>& buffer) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < buffer.size(); i += 8) sum += ++buffer[i];  // one write per cache line
  asm volatile("" : : "r"(sum) : "memory");
}

EngineFigures engine_run(const std::vector<Event>& events, std::size_t snapshot_events, std::uint32_t instruments,
                         std::size_t pollute_bytes) {
  std::vector<Instrument> listed;
  for (std::uint32_t i = 0; i < instruments; ++i) listed.push_back(make_instrument(symbol_of(i), "synthetic"));
  fastcore::engine::BracketStrategy bracket;
  fastcore::engine::BracketConfig bc;
  bc.fixed_qty_lots = 1;
  bc.stop_distance = 5;
  (void)bracket.try_configure(bc);
  fastcore::engine::Engine engine;
  fastcore::engine::EngineConfig ec;
  ec.order_capacity = 8192;  // as rentrade bench
  if (engine.try_init(listed, ec, &bracket) != fastcore::engine::EngineError::kOk) std::exit(10);
  (void)engine.composite().try_set_weight(fastcore::signal::Feature::kImbalance, 0.5);
  (void)engine.composite().try_set_weight(fastcore::signal::Feature::kMicroOffset, 0.3);
  (void)engine.composite().try_set_weight(fastcore::signal::Feature::kTradeFlow, 0.2);
  (void)engine.composite().try_set_threshold(0.5);
  std::vector<fastcore::engine::ExecutionReport> reports;
  reports.reserve(1U << 16);
  std::vector<std::uint64_t> junk(pollute_bytes / 8);
  std::uint64_t trade_id = 0;
  const std::span<const Event> all(events);
  for (std::size_t first = 0; first < all.size(); first += 4096) {
    if (first == snapshot_events / 4096 * 4096) engine.reset_histograms();
    const auto slice = all.subspan(first, std::min<std::size_t>(4096, all.size() - first));
    if (!junk.empty()) pollute(junk);
    if (engine.try_on_events(slice).error != fastcore::engine::EngineError::kOk) std::exit(11);
    const std::int64_t ts = slice.back().ts_local_ns;
    while (!engine.intents().empty()) {
      answer(engine, ts, trade_id, reports);
      if (!junk.empty()) pollute(junk);
      if (engine.try_on_reports(reports).error != fastcore::engine::EngineError::kOk) std::exit(12);
    }
  }
  EngineFigures f;
  for (std::size_t s = 0; s < fastcore::engine::kStageCount; ++s) {
    const auto& h = engine.histogram(static_cast<fastcore::engine::Stage>(s));
    f.p50[s] = static_cast<double>(h.percentile(50));
    f.p99[s] = static_cast<double>(h.percentile(99));
    f.count[s] = h.count();
  }
  if (f.count[static_cast<std::size_t>(fastcore::engine::Stage::kPosition)] == 0 ||
      f.count[static_cast<std::size_t>(fastcore::engine::Stage::kRisk)] == 0) {
    std::exit(13);  // the harness must make the engine trade, or the figures measure nothing
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::vector<std::string> stages;
  for (int i = 2; i < argc; ++i) stages.emplace_back(argv[i]);
  if (stages.empty()) stages = {"signal", "position", "risk"};
  const fastcore::common::CycleClock clock;
  std::printf("timer overhead %.1f ns\n", static_cast<double>(clock.overhead_ticks()) * clock.ns_per_tick());
  for (const std::string& stage : stages) {
    std::vector<std::vector<double>> cols(6);
    std::vector<Event> events;
    if (stage == "signal") events = synthetic(1, 1'000'000, 1);
    if (stage == "engine" || stage == "engine-cold") {
      // engine-cold: 4 MB walked between calls (more than L2, as the Python driver does).
      const std::size_t pollute_bytes = stage == "engine-cold" ? std::size_t{4} << 20 : 0;
      events = synthetic(1000, 1000 * 1001 + 1'000'000, 1);
      std::vector<std::vector<double>> p50(fastcore::engine::kStageCount), p99(fastcore::engine::kStageCount);
      for (int r = 0; r < runs; ++r) {
        const EngineFigures f = engine_run(events, 1000 * 1001, 1000, pollute_bytes);
        std::printf("run %d %s/1000:", r + 1, stage.c_str());
        for (std::size_t s = 0; s < fastcore::engine::kStageCount; ++s) {
          std::printf(" %s %.0f/%.0f (%llu)", fastcore::engine::stage_name(static_cast<fastcore::engine::Stage>(s)),
                      f.p50[s], f.p99[s], static_cast<unsigned long long>(f.count[s]));
          p50[s].push_back(f.p50[s]);
          p99[s].push_back(f.p99[s]);
        }
        std::printf("\n");
      }
      std::printf("median %s p50/p99 ns:", stage.c_str());
      for (std::size_t s = 0; s < fastcore::engine::kStageCount; ++s) {
        std::printf(" %s %.0f/%.0f", fastcore::engine::stage_name(static_cast<fastcore::engine::Stage>(s)),
                    median(p50[s]), median(p99[s]));
      }
      std::printf("\n");
      continue;
    }
    for (int r = 0; r < runs; ++r) {
      std::vector<Figures> fs;
      std::vector<std::string> names;
      if (stage == "signal") {
        fs.push_back(signal_run(events, clock));
        names.emplace_back("signal");
      } else if (stage == "position") {
        fs.push_back(position_run(1, 1 + static_cast<std::uint64_t>(r), clock));
        fs.push_back(position_run(1000, 1 + static_cast<std::uint64_t>(r), clock));
        names = {"position/1", "position/1000"};
      } else if (stage == "position-shuffled") {
        fs.push_back(position_run(1000, 1 + static_cast<std::uint64_t>(r), clock, true));
        names.emplace_back("position/1000 shuffled ids");
      } else if (stage == "risk") {
        fs.push_back(risk_run(1000, 1 + static_cast<std::uint64_t>(r), clock));
        names.emplace_back("risk/1000");
      } else {
        std::fprintf(stderr, "core_bench: unknown stage %s\n", stage.c_str());
        return 2;
      }
      for (std::size_t k = 0; k < fs.size(); ++k) {
        std::printf("run %d %-14s p50 %4.0f p99 %4.0f p99.9 %5.0f mean95 %5.1f ns  %.1f M/s\n", r + 1, names[k].c_str(),
                    fs[k].p50, fs[k].p99, fs[k].p999, fs[k].mean, fs[k].rate);
        if (k == 0) {
          cols[0].push_back(fs[k].p50);
          cols[1].push_back(fs[k].p99);
          cols[4].push_back(fs[k].mean);
        } else {
          cols[2].push_back(fs[k].p50);
          cols[3].push_back(fs[k].p99);
          cols[5].push_back(fs[k].mean);
        }
      }
    }
    std::printf("median %s: p50 %.0f p99 %.0f mean95 %.1f", stage.c_str(), median(cols[0]), median(cols[1]),
                median(cols[4]));
    if (!cols[2].empty()) {
      std::printf(" | second: p50 %.0f p99 %.0f mean95 %.1f", median(cols[2]), median(cols[3]), median(cols[5]));
    }
    std::printf("\n");
  }
  return 0;
}
