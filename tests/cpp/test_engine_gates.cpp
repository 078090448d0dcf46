// Decision gates (EngineConfig::decision_gates, DecisionGate, BracketStrategy::gate) against the
// ungated reference: the same engine-driven backtest run twice, once calling the strategy at every
// decision point and once only where its gate opens, must give the same intents byte for byte, the
// same reports, trips, fills, P&L and counters; and the gated run must actually skip calls. Several
// bracket set-ups (wide and tight stops, market stops, bps distances, sizing by budget) and instrument
// counts, so entries, take-profits, stops and their retries all happen. (tests/test_backtest_gates.py
// does the same on the BTCUSDT recording and synthetic data through run_backtest.)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.hpp"
#include "synthetic_support.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/sim/backtest.hpp"
#include "fastcore/sim/engine_strategy.hpp"
#include "fastcore/sim/exchange.hpp"

namespace {

using fastcore::common::Event;
using fastcore::engine::BracketConfig;
using fastcore::engine::BracketStrategy;
using fastcore::engine::DecisionGate;
using fastcore::engine::DecisionPoint;
using fastcore::engine::Engine;
using fastcore::engine::ExecutionReport;
using fastcore::engine::OrderIntent;
using fastcore::engine::WorkingOrder;

// The bracket strategy, counting the decision points it is called at.
class Counting final : public fastcore::engine::Strategy {
 public:
  explicit Counting(BracketStrategy& inner) : inner_(inner) {}
  void on_start(Engine& engine) override { inner_.on_start(engine); }
  void on_decision(Engine& engine, const DecisionPoint& point) noexcept override {
    ++decisions;
    inner_.on_decision(engine, point);
  }
  void on_report(Engine& engine, const ExecutionReport& report, const WorkingOrder& order, bool done) noexcept override {
    inner_.on_report(engine, report, order, done);
  }
  std::uint64_t decisions = 0;

 private:
  BracketStrategy& inner_;
};

// The engine as the backtest's strategy, keeping every intent and report it exchanges.
class Recording final : public fastcore::sim::Strategy {
 public:
  explicit Recording(Engine& engine) : inner_(engine) {}
  void on_events(std::span<const Event> events, std::vector<OrderIntent>& out) override {
    const std::size_t before = out.size();
    inner_.on_events(events, out);
    intents.insert(intents.end(), out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
  }
  void on_reports(std::span<const ExecutionReport> batch, std::vector<OrderIntent>& out) override {
    reports.insert(reports.end(), batch.begin(), batch.end());
    const std::size_t before = out.size();
    inner_.on_reports(batch, out);
    intents.insert(intents.end(), out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
  }
  std::vector<OrderIntent> intents;
  std::vector<ExecutionReport> reports;

 private:
  fastcore::sim::EngineStrategy inner_;
};

struct Outcome {
  std::vector<OrderIntent> intents;
  std::vector<ExecutionReport> reports;
  std::vector<fastcore::sim::RoundTrip> trips;
  fastcore::engine::EngineCounters engine;
  fastcore::engine::BracketCounters bracket;
  __int128 pnl = 0;
  std::vector<std::int64_t> net;
  std::uint64_t fills = 0;
  std::uint64_t decisions = 0;
};

Outcome run(const std::vector<Event>& events, std::uint32_t instruments, const BracketConfig& bc, bool gates) {
  std::vector<fastcore::common::Instrument> list(instruments);
  fastcore::sim::ExchangeConfig config;
  for (std::uint32_t id = 0; id < instruments; ++id) {
    fastcore::common::InstrumentField failed{};
    const std::string name = "SYNTH" + std::to_string(id) + "-PERP";
    CHECK(fastcore::common::try_make_instrument(name, "synthetic", "0.1", "0.001", "0", "0", "1", false, list[id],
                                                failed) == fastcore::common::DecimalError::kOk);
    config.instruments.push_back({2 * 10'000, 5 * 10'000, static_cast<std::int64_t>(list[id].notional_factor())});
  }
  config.order_latency.lo_ns = 1'000'000;
  config.response_latency.lo_ns = 1'000'000;
  BracketStrategy bracket;
  CHECK(bracket.try_configure(bc) == fastcore::engine::BracketError::kOk);
  Counting counting(bracket);
  Engine engine;
  fastcore::engine::EngineConfig ec;
  ec.timing = false;
  ec.decision_gates = gates;
  CHECK(engine.try_init(list, ec, &counting) == fastcore::engine::EngineError::kOk);
  CHECK(engine.decision_gates() == gates);
  (void)engine.composite().try_set_weight(fastcore::signal::Feature::kImbalance, 1.0);
  (void)engine.composite().try_set_threshold(0.5);
  fastcore::sim::SimulatedExchange venue(config);
  Recording recording(engine);
  fastcore::sim::Backtest loop(venue, recording, fastcore::sim::BacktestConfig{});
  // In chunks, as the Python loop feeds it.
  std::size_t at = 0;
  while (at < events.size()) {
    const std::size_t n = std::min<std::size_t>(events.size() - at, 65'536);
    std::size_t applied = 0;
    CHECK(loop.try_run(std::span<const Event>(events).subspan(at, n), applied) == fastcore::sim::ExchangeError::kOk);
    CHECK_EQ(applied, n);
    at += n;
  }
  loop.finish();
  Outcome out;
  out.intents = std::move(recording.intents);
  out.reports = std::move(recording.reports);
  out.trips = loop.ledger().trips();
  out.engine = engine.counters();
  out.bracket = bracket.counters();
  out.pnl = engine.day_pnl(-1);
  for (std::uint32_t id = 0; id < instruments; ++id) out.net.push_back(engine.positions().net_lots(id));
  out.fills = venue.stats().fills;
  out.decisions = counting.decisions;
  return out;
}

template <typename T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

void compare(const char* what, const std::vector<Event>& events, std::uint32_t instruments, const BracketConfig& bc) {
  const Outcome gated = run(events, instruments, bc, true);
  const Outcome every = run(events, instruments, bc, false);
  std::printf("  %s: %zu intents, %zu trips, %llu stops, %llu take-profits; strategy called at %llu of %llu decision points (ungated: %llu)\n",
              what, gated.intents.size(), gated.trips.size(), static_cast<unsigned long long>(gated.bracket.stops),
              static_cast<unsigned long long>(gated.bracket.take_profits),
              static_cast<unsigned long long>(gated.decisions), static_cast<unsigned long long>(gated.engine.messages),
              static_cast<unsigned long long>(every.decisions));
  CHECK(!every.trips.empty());
  CHECK(same_bytes(gated.intents, every.intents));
  CHECK(same_bytes(gated.reports, every.reports));
  CHECK(same_bytes(gated.trips, every.trips));
  CHECK(std::memcmp(&gated.engine, &every.engine, sizeof gated.engine) == 0);
  CHECK(std::memcmp(&gated.bracket, &every.bracket, sizeof gated.bracket) == 0);
  CHECK(gated.pnl == every.pnl);
  CHECK(gated.net == every.net);
  CHECK_EQ(gated.fills, every.fills);
  CHECK_EQ(every.decisions, every.engine.messages);  // the reference: every decision point
  CHECK(gated.decisions < every.decisions / 2);      // and the gates do skip most of them
}

void test_gated_same_as_every_decision() {
  const auto one = synthetic_support::events(1, 400'000, 7);
  BracketConfig wide;
  wide.fixed_qty_lots = 10;
  wide.stop_distance = 10;
  compare("1 instrument, stop 10 ticks", one, 1, wide);
  BracketConfig tight = wide;
  tight.stop_distance = 2;
  tight.reward_ratio = 3;
  tight.stop_slippage_ticks = 1;
  compare("1 instrument, stop 2 ticks", one, 1, tight);
  BracketConfig market = wide;
  market.stop_distance = 1;
  market.market_stop = true;
  compare("1 instrument, market stop 1 tick", one, 1, market);
  BracketConfig bps;
  bps.unit = fastcore::engine::DistanceUnit::kBps;
  bps.stop_distance = 1;
  bps.take_profit_distance = 3;
  bps.budget = {60'000, 1};
  compare("1 instrument, bps and budget", one, 1, bps);
  const auto three = synthetic_support::events(3, 400'000, 11);
  compare("3 instruments, stop 2 ticks", three, 3, tight);
}

// The gate itself: what each bracket phase lets through.
void test_bracket_gate() {
  const auto events = synthetic_support::events(1, 50'000, 3);
  fastcore::common::Instrument instrument;
  fastcore::common::InstrumentField failed{};
  CHECK(fastcore::common::try_make_instrument("SYNTH-PERP", "synthetic", "0.1", "0.001", "0", "0", "1", false,
                                              instrument, failed) == fastcore::common::DecimalError::kOk);
  BracketStrategy bracket;
  BracketConfig bc;
  bc.fixed_qty_lots = 10;
  CHECK(bracket.try_configure(bc) == fastcore::engine::BracketError::kOk);
  Engine engine;
  CHECK(engine.try_init(std::span<const fastcore::common::Instrument>(&instrument, 1), {}, &bracket) ==
        fastcore::engine::EngineError::kOk);
  // Flat at the start: closed until the decision changes from 0, no price test.
  const DecisionGate& gate = engine.decision_gate(0);
  CHECK(!gate.always);
  CHECK_EQ(gate.decision, 0);
  CHECK(gate.bid_at_or_below == std::numeric_limits<std::int64_t>::min());
  CHECK(gate.ask_at_or_above == std::numeric_limits<std::int64_t>::max());
  // An unknown id is ignored.
  engine.set_decision_gate(5, DecisionGate{});
  CHECK(!engine.decision_gate(0).always);
  // The engine's default (no strategy gate): always open.
  Engine plain;
  CHECK(plain.try_init(std::span<const fastcore::common::Instrument>(&instrument, 1), {}, nullptr) ==
        fastcore::engine::EngineError::kOk);
  CHECK(plain.decision_gate(0).always);
  CHECK(plain.decision_gates());
  plain.set_decision_gates(false);
  CHECK(!plain.decision_gates());
}

}  // namespace

int main() {
  test_bracket_gate();
  test_gated_same_as_every_decision();
  return report("test_engine_gates");
}
