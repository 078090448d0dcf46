// The decision engine: intents on a signal, risk refusals counted by reason, the kill switch's cancels,
// fills into positions and P&L, the bracket exits (TP fill disarms the stop; the stop cancels the TP
// before exiting), one position per instrument, determinism, and refused input.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "check.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/engine/engine.hpp"

namespace {

using fastcore::common::Event;
using fastcore::common::EventKind;
using fastcore::common::Instrument;
using fastcore::common::Side;
using namespace fastcore::engine;
using fastcore::risk::RiskReason;
using fastcore::risk::Scope;
using fastcore::risk::TradingState;

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;

Instrument make(const std::string& symbol, const std::string& venue) {
  Instrument instrument;
  fastcore::common::InstrumentField failed{};
  const auto error = fastcore::common::try_make_instrument(symbol, venue, "0.1", "0.001", "0.001", "0", "1", false,
                                                           instrument, failed);
  CHECK(error == fastcore::common::DecimalError::kOk);
  return instrument;
}

Event level(std::uint32_t id, Side side, std::int64_t px, std::int64_t qty, std::int64_t ts, bool last,
            EventKind kind = EventKind::kDelta) {
  Event e{};
  e.ts_exchange_ns = ts;
  e.ts_local_ns = ts;
  e.px_ticks = px;
  e.qty_lots = qty;
  e.seq = static_cast<std::uint64_t>(ts - kT0 + 1);
  e.instrument_id = id;
  e.kind = kind;
  e.side = side;
  e.flags = last ? fastcore::common::kFlagLastInMessage : 0;
  return e;
}

/// A two-level message: best bid and best ask with the given sizes (older levels removed by the caller).
std::vector<Event> top(std::uint32_t id, std::int64_t bid, std::int64_t bid_qty, std::int64_t ask, std::int64_t ask_qty,
                       std::int64_t ts) {
  return {level(id, Side::kBid, bid, bid_qty, ts, false), level(id, Side::kAsk, ask, ask_qty, ts, true)};
}

ExecutionReport report(const OrderIntent& intent, ReportKind kind, std::int64_t px, std::int64_t qty,
                       std::uint64_t trade_id, std::int64_t ts) {
  ExecutionReport r{};
  r.ts_exchange_ns = ts;
  r.ts_local_ns = ts;
  r.px_ticks = px;
  r.qty_lots = qty;
  r.order_id = intent.order_id;
  r.trade_id = trade_id;
  r.instrument_id = intent.instrument_id;
  r.kind = kind;
  r.side = intent.side;
  r.liquidity = FillLiquidity::kTaker;
  return r;
}

struct Rig {
  std::unique_ptr<Engine> engine = std::make_unique<Engine>();
  BracketStrategy strategy;
  std::vector<OrderIntent> out;

  explicit Rig(std::size_t instruments = 3, std::int64_t fixed_qty = 5) {
    std::vector<Instrument> list;
    for (std::size_t i = 0; i < instruments; ++i) {
      char symbol[32];
      std::snprintf(symbol, sizeof symbol, "S%zu", i);  // not "S" + to_string: GCC 12 -Wrestrict false positive
      list.push_back(make(symbol, i % 2 == 0 ? "a" : "b"));
    }
    BracketConfig bracket;
    bracket.stop_distance = 10;
    bracket.fixed_qty_lots = fixed_qty;
    CHECK(strategy.try_configure(bracket) == BracketError::kOk);
    EngineConfig config;
    config.order_capacity = 64;
    config.intent_capacity = 64;
    CHECK(engine->try_init(list, config, &strategy) == EngineError::kOk);
    CHECK(engine->composite().try_set_weight(fastcore::signal::Feature::kImbalance, 1.0) ==
          fastcore::signal::SignalError::kOk);
    CHECK(engine->composite().try_set_threshold(0.5) == fastcore::signal::SignalError::kOk);
  }

  /// Feeds events and returns the intents they produced.
  std::vector<OrderIntent> feed(const std::vector<Event>& events) {
    const ApplyResult result = engine->try_on_events(events);
    CHECK(result.error == EngineError::kOk);
    CHECK_EQ(result.applied, events.size());
    return drain();
  }
  std::vector<OrderIntent> send(const std::vector<ExecutionReport>& reports) {
    const ApplyResult result = engine->try_on_reports(reports);
    CHECK(result.error == EngineError::kOk);
    return drain();
  }
  std::vector<OrderIntent> drain() {
    std::vector<OrderIntent> intents(engine->intents().begin(), engine->intents().end());
    engine->clear_intents();
    return intents;
  }
};

// Book 1000/1001 with 90 lots bid vs 10 ask: imbalance (90-10)/100 = 0.8 >= 0.5 -> long entry.
std::vector<Event> bullish(std::uint32_t id, std::int64_t ts) {
  std::vector<Event> events{level(id, Side::kBid, 1000, 90, ts, false, EventKind::kClear)};
  events[0].qty_lots = 0;
  events.push_back(level(id, Side::kBid, 1000, 90, ts, false, EventKind::kSnapshotLevel));
  events.push_back(level(id, Side::kAsk, 1001, 10, ts, true, EventKind::kSnapshotLevel));
  return events;
}

void test_entry_on_signal() {
  Rig rig;
  const auto intents = rig.feed(bullish(0, kT0));
  CHECK_EQ(intents.size(), 1U);
  const OrderIntent& entry = intents[0];
  CHECK(entry.kind == IntentKind::kNew);
  CHECK(entry.side == Side::kBid);
  CHECK_EQ(entry.px_ticks, 1001);  // IOC at the opposite touch
  CHECK_EQ(entry.qty_lots, 5);
  CHECK(entry.tif == TimeInForce::kIoc);
  CHECK_EQ(entry.reduce_only, 0);
  CHECK(entry.order_id != 0);
  CHECK_EQ(entry.ts_ns, kT0);
  CHECK_EQ(entry.ts_trigger_local_ns, kT0);
  CHECK_EQ(entry.instrument_id, 0U);
  CHECK_EQ(rig.engine->counters().new_orders, 1U);
  CHECK(rig.strategy.slot(0).phase == BracketPhase::kEntering);
  // Same signal again: no second entry while the first is working (one position per instrument).
  CHECK(rig.feed(top(0, 1000, 95, 1001, 5, kT0 + 1)).empty());
  // A bearish book on another instrument enters short there.
  std::vector<Event> bear = bullish(1, kT0 + 2);
  bear[1].qty_lots = 10;
  bear[2].qty_lots = 90;
  const auto shorts = rig.feed(bear);
  CHECK_EQ(shorts.size(), 1U);
  CHECK(shorts[0].side == Side::kAsk && shorts[0].px_ticks == 1000 && shorts[0].venue_id == 1);
  CHECK(shorts[0].order_id != entry.order_id);
}

void test_take_profit_disarms_stop() {
  Rig rig;
  const OrderIntent entry = rig.feed(bullish(0, kT0)).at(0);
  // Entry fills 5 @ 1001: TP = 1001 + 2 x 10 = 1021 (reduce-only GTC sell), stop = 991.
  const auto tp = rig.send({report(entry, ReportKind::kFill, 1001, 5, 1, kT0 + 10)});
  CHECK_EQ(tp.size(), 1U);
  CHECK(tp[0].kind == IntentKind::kNew && tp[0].side == Side::kAsk && tp[0].px_ticks == 1021 &&
        tp[0].qty_lots == 5 && tp[0].reduce_only == 1 && tp[0].tif == TimeInForce::kGtc);
  CHECK_EQ(rig.engine->positions()[0].net_lots(), 5);
  CHECK_EQ(rig.strategy.slot(0).stop_px_ticks, 991);
  CHECK(rig.send({report(tp[0], ReportKind::kAck, 1021, 0, 0, kT0 + 11)}).empty());
  // TP fills: flat; the stop is disarmed, so a later crash through 991 sends nothing.
  CHECK(rig.send({report(tp[0], ReportKind::kFill, 1021, 5, 2, kT0 + 12)}).empty());
  CHECK_EQ(rig.engine->positions()[0].net_lots(), 0);
  CHECK(rig.strategy.slot(0).phase == BracketPhase::kFlat);
  CHECK_EQ(rig.strategy.counters().take_profits, 1U);
  CHECK(rig.feed(top(0, 980, 50, 981, 50, kT0 + 13)).empty());
  CHECK_EQ(rig.engine->risk().working_orders(), 0U);
  // Realized: 5 lots x 20 ticks = 100 tick-lots = 0.01 quote (money unit 1e-4): 100 units, no fees.
  CHECK(rig.engine->day_pnl(-1) == 100);
}

void test_stop_cancels_take_profit_then_exits() {
  Rig rig;
  const OrderIntent entry = rig.feed(bullish(0, kT0)).at(0);
  const OrderIntent tp = rig.send({report(entry, ReportKind::kFill, 1001, 5, 1, kT0 + 10)}).at(0);
  CHECK(rig.send({report(tp, ReportKind::kAck, 1021, 0, 0, kT0 + 11)}).empty());
  // Best bid falls to 991 (the stop): the TP is cancelled first, no exit yet.
  std::vector<Event> fall{level(0, Side::kBid, 1000, 0, kT0 + 20, false), level(0, Side::kBid, 991, 50, kT0 + 20, false),
                          level(0, Side::kAsk, 1001, 0, kT0 + 20, false), level(0, Side::kAsk, 992, 50, kT0 + 20, true)};
  const auto cancels = rig.feed(fall);
  CHECK_EQ(cancels.size(), 1U);
  CHECK(cancels[0].kind == IntentKind::kCancel && cancels[0].order_id == tp.order_id);
  CHECK(rig.strategy.slot(0).phase == BracketPhase::kStopping);
  // The venue confirms the cancel: now the reduce-only IOC sell at the bid goes out.
  const auto exits = rig.send({report(tp, ReportKind::kCancelled, 1021, 0, 0, kT0 + 21)});
  CHECK_EQ(exits.size(), 1U);
  CHECK(exits[0].kind == IntentKind::kNew && exits[0].side == Side::kAsk && exits[0].px_ticks == 991 &&
        exits[0].qty_lots == 5 && exits[0].reduce_only == 1 && exits[0].tif == TimeInForce::kIoc);
  // Partial fill, remainder cancelled: the exit is repeated for what is left at the next decision point.
  CHECK(rig.send({report(exits[0], ReportKind::kFill, 991, 3, 3, kT0 + 22)}).empty());
  CHECK(rig.send({report(exits[0], ReportKind::kCancelled, 991, 0, 0, kT0 + 23)}).empty());
  CHECK_EQ(rig.engine->positions()[0].net_lots(), 2);
  const auto again = rig.feed(top(0, 991, 40, 992, 50, kT0 + 24));
  CHECK_EQ(again.size(), 1U);
  CHECK(again[0].side == Side::kAsk && again[0].qty_lots == 2 && again[0].reduce_only == 1);
  CHECK(rig.send({report(again[0], ReportKind::kFill, 991, 2, 4, kT0 + 25)}).empty());
  CHECK_EQ(rig.engine->positions()[0].net_lots(), 0);
  CHECK(rig.strategy.slot(0).phase == BracketPhase::kFlat);
  CHECK_EQ(rig.strategy.counters().stop_exits, 1U);
  CHECK_EQ(rig.strategy.counters().stops, 1U);
  // Loss: 5 x (991 - 1001) = -50 tick-lots.
  CHECK(rig.engine->day_pnl(-1) == -50);
  CHECK_EQ(rig.engine->counters().fills, 3U);
}

void test_risk_refusal_counted() {
  Rig rig;
  fastcore::risk::InstrumentLimits limits;
  limits.max_qty_lots = 4;  // the strategy asks for 5
  CHECK(rig.engine->risk().try_set_limits(0, limits) == fastcore::risk::OrderError::kOk);
  CHECK(rig.feed(bullish(0, kT0)).empty());
  CHECK_EQ(rig.engine->counters().risk_refusals, 1U);
  CHECK_EQ(rig.engine->counters().refusals_by_reason[static_cast<std::size_t>(RiskReason::kQtyAboveMax)], 1U);
  CHECK_EQ(rig.strategy.counters().entry_refusals, 1U);
  CHECK(rig.strategy.slot(0).phase == BracketPhase::kFlat);
  // Resyncing book: refused with its own reason.
  CHECK(rig.engine->try_set_resyncing(1, true) == EngineError::kOk);
  CHECK(rig.feed(bullish(1, kT0 + 1)).empty());
  CHECK_EQ(rig.engine->counters().refusals_by_reason[static_cast<std::size_t>(RiskReason::kBookResyncing)], 1U);
  CHECK(rig.engine->try_set_resyncing(7, true) == EngineError::kUnknownInstrument);
}

void test_kill_switch_cancels() {
  Rig rig(5);
  const OrderIntent entry = rig.feed(bullish(0, kT0)).at(0);
  const OrderIntent tp = rig.send({report(entry, ReportKind::kFill, 1001, 5, 1, kT0 + 10)}).at(0);
  CHECK(rig.send({report(tp, ReportKind::kAck, 1021, 0, 0, kT0 + 11)}).empty());
  const OrderIntent other = rig.feed(bullish(2, kT0 + 12)).at(0);  // venue a too, in flight
  CHECK(rig.engine->try_set_state(Scope::kVenue, 0, TradingState::kHalted) == EngineError::kOk);
  const auto cancels = rig.drain();
  CHECK_EQ(cancels.size(), 2U);
  for (const OrderIntent& c : cancels) CHECK(c.kind == IntentKind::kCancel);
  CHECK((cancels[0].order_id == tp.order_id && cancels[1].order_id == other.order_id) ||
        (cancels[1].order_id == tp.order_id && cancels[0].order_id == other.order_id));
  // Halted: a new signal on the venue's other instrument is refused with the venue reason.
  CHECK(rig.feed(bullish(4, kT0 + 13)).empty());
  CHECK_EQ(rig.engine->counters().refusals_by_reason[static_cast<std::size_t>(RiskReason::kVenueHalted)], 1U);
  CHECK(rig.engine->try_set_state(Scope::kVenue, 9, TradingState::kHalted) == EngineError::kBadScope);
  CHECK(rig.engine->try_set_state(Scope::kInstrument, 9, TradingState::kHalted) == EngineError::kUnknownInstrument);
  // Global halt after venue: nothing left to cancel twice.
  CHECK(rig.engine->try_set_state(Scope::kGlobal, 0, TradingState::kHalted) == EngineError::kOk);
  CHECK(rig.drain().empty());
}

void test_loss_limit_moves_state() {
  Rig rig;
  fastcore::risk::ScopeLimits global;
  global.daily_loss_halt = 20;  // money units
  CHECK(rig.engine->risk().try_set_global_limits(global) == fastcore::risk::OrderError::kOk);
  const OrderIntent entry = rig.feed(bullish(0, kT0)).at(0);
  const OrderIntent tp = rig.send({report(entry, ReportKind::kFill, 1001, 5, 1, kT0 + 10)}).at(0);
  CHECK(rig.send({report(tp, ReportKind::kAck, 1021, 0, 0, kT0 + 11)}).empty());
  CHECK(rig.engine->risk().effective_state(0) == TradingState::kActive);
  // Mid drops to 996.5 -> mark 996 (above the 991 stop): unrealized 5 x -5 = -25 <= -20: HALTED, and the
  // kill switch cancels the TP.
  const auto out = rig.feed({level(0, Side::kBid, 1000, 0, kT0 + 12, false), level(0, Side::kBid, 995, 50, kT0 + 12, false),
                             level(0, Side::kAsk, 1001, 0, kT0 + 12, false), level(0, Side::kAsk, 998, 50, kT0 + 12, true)});
  CHECK(rig.engine->day_pnl(-1) == -25);
  CHECK(rig.strategy.slot(0).phase == BracketPhase::kOpen);
  CHECK(rig.engine->risk().effective_state(0) == TradingState::kHalted);
  bool tp_cancelled = false;
  for (const OrderIntent& i : out) tp_cancelled = tp_cancelled || (i.kind == IntentKind::kCancel && i.order_id == tp.order_id);
  CHECK(tp_cancelled);
}

void test_duplicate_fill_and_unknown_report() {
  Rig rig;
  const OrderIntent entry = rig.feed(bullish(0, kT0)).at(0);
  const ExecutionReport fill = report(entry, ReportKind::kFill, 1001, 2, 77, kT0 + 10);
  CHECK(rig.send({fill}).empty());  // partial: no TP until the IOC is done
  CHECK(rig.send({fill}).empty());  // same trade id: counted once
  CHECK_EQ(rig.engine->positions()[0].net_lots(), 2);
  CHECK_EQ(rig.engine->counters().duplicate_fills, 1U);
  const auto tp = rig.send({report(entry, ReportKind::kCancelled, 1001, 0, 0, kT0 + 11)});
  CHECK_EQ(tp.size(), 1U);
  CHECK_EQ(tp[0].qty_lots, 2);
  ExecutionReport stranger = fill;
  stranger.order_id = 123456789;
  stranger.kind = ReportKind::kAck;
  CHECK(rig.send({stranger}).empty());
  CHECK_EQ(rig.engine->counters().unknown_reports, 1U);
  ExecutionReport bad = fill;
  bad.qty_lots = 0;
  CHECK(rig.engine->try_on_reports({&bad, 1}).error == EngineError::kBadReport);
  bad = report(tp[0], ReportKind::kFill, 1021, 3, 99, kT0);  // more than the TP's 2 lots
  CHECK(rig.engine->try_on_reports({&bad, 1}).error == EngineError::kBadReport);
  CHECK_EQ(rig.engine->positions()[0].net_lots(), 2);
}

/// A strategy that places one resting order per decision and lets the test drive replace and cancel.
class ManualStrategy final : public Strategy {
 public:
  std::uint64_t last_id = 0;
  std::vector<bool> done_flags;
  void on_start(Engine&) override {}
  void on_decision(Engine& engine, const DecisionPoint& point) noexcept override {
    if (last_id != 0) return;
    OrderSpec spec;
    spec.px_ticks = 990;
    spec.qty_lots = 4;
    spec.instrument_id = point.instrument_id;
    spec.tag = 42;
    last_id = engine.submit(spec).order_id;
  }
  void on_report(Engine&, const ExecutionReport&, const WorkingOrder& order, bool done) noexcept override {
    CHECK_EQ(order.tag, 42U);
    done_flags.push_back(done);
  }
};

void test_replace_and_custom_strategy() {
  std::vector<Instrument> list{make("S0", "a")};
  ManualStrategy strategy;
  auto engine = std::make_unique<Engine>();
  CHECK(engine->try_init(list, EngineConfig{}, &strategy) == EngineError::kOk);
  CHECK(engine->try_on_events(bullish(0, kT0)).error == EngineError::kOk);
  CHECK_EQ(engine->intents().size(), 1U);
  const OrderIntent placed = engine->intents()[0];
  engine->clear_intents();
  CHECK(engine->try_on_reports(std::vector<ExecutionReport>{report(placed, ReportKind::kAck, 990, 0, 0, kT0 + 1)}).error ==
        EngineError::kOk);
  // Replace to 995 x 6: same id, risk now counts 6 lots working.
  const SubmitResult moved = engine->replace(placed.order_id, 995, 6);
  CHECK(moved.ok() && moved.order_id == placed.order_id);
  CHECK_EQ(engine->intents().size(), 1U);
  CHECK(engine->intents()[0].kind == IntentKind::kReplace && engine->intents()[0].px_ticks == 995 &&
        engine->intents()[0].qty_lots == 6);
  CHECK_EQ(engine->risk().working_lots(0, Side::kBid), 6);
  // The venue rejects the replace: the old terms (990 x 4) are back, in the engine and in risk.
  CHECK(engine->try_on_reports(std::vector<ExecutionReport>{report(placed, ReportKind::kReject, 995, 0, 0, kT0 + 2)}).error ==
        EngineError::kOk);
  const WorkingOrder* order = engine->find_order(placed.order_id);
  CHECK(order != nullptr && order->px_ticks == 990 && order->leaves_lots == 4 && order->acked);
  CHECK_EQ(engine->risk().working_lots(0, Side::kBid), 4);
  // A replace the risk check refuses changes nothing.
  fastcore::risk::InstrumentLimits limits;
  limits.max_qty_lots = 5;
  CHECK(engine->risk().try_set_limits(0, limits) == fastcore::risk::OrderError::kOk);
  const SubmitResult refused = engine->replace(placed.order_id, 995, 9);
  CHECK(!refused.ok() && refused.reason == RiskReason::kQtyAboveMax);
  CHECK_EQ(engine->risk().working_lots(0, Side::kBid), 4);
  CHECK(engine->risk().open_orders(0) == 1U);
  // Cancel: one intent, a second cancel of the same order is refused until the venue answers.
  engine->clear_intents();
  CHECK(engine->cancel(placed.order_id));
  CHECK(!engine->cancel(placed.order_id));
  CHECK_EQ(engine->intents().size(), 1U);
  CHECK(engine->try_on_reports(std::vector<ExecutionReport>{report(placed, ReportKind::kCancelled, 990, 0, 0, kT0 + 3)})
            .error == EngineError::kOk);
  CHECK(engine->find_order(placed.order_id) == nullptr);
  CHECK_EQ(engine->risk().working_orders(), 0U);
  CHECK(strategy.done_flags == std::vector<bool>({false, false, true}));
}

void test_bad_events() {
  Rig rig;
  std::vector<Event> events = bullish(0, kT0);
  events[1].instrument_id = 99;
  const ApplyResult r = rig.engine->try_on_events(events);
  CHECK(r.error == EngineError::kUnknownInstrument);
  CHECK_EQ(r.applied, 1U);
  events = bullish(0, kT0);
  events[1].qty_lots = -1;
  const ApplyResult r2 = rig.engine->try_on_events(events);
  CHECK(r2.error == EngineError::kBadEvent);
  CHECK(r2.book_error == fastcore::book::ApplyError::kNegativeQty);
  // EventSink path records the same result.
  static_cast<fastcore::common::EventSink&>(*rig.engine).on_events(events);
  CHECK(rig.engine->last_apply().error == EngineError::kBadEvent);
}

void test_deterministic_and_histograms() {
  // The same stream twice gives the same intents byte for byte; stage histograms fill.
  std::vector<Event> stream;
  for (int i = 0; i < 200; ++i) {
    const auto id = static_cast<std::uint32_t>(i % 3);
    const std::int64_t bid_qty = 10 + (i * 37) % 90;
    for (const Event& e : top(id, 1000 + i % 7, bid_qty, 1001 + i % 7, 100 - bid_qty, kT0 + i)) stream.push_back(e);
  }
  std::vector<OrderIntent> first;
  std::vector<OrderIntent> second;
  for (auto* out : {&first, &second}) {
    Rig rig;
    *out = rig.feed(stream);
    CHECK(rig.engine->histogram(Stage::kTickToDecision).count() == 200U);
    CHECK(rig.engine->histogram(Stage::kBook).count() == 200U);
    CHECK(rig.engine->histogram(Stage::kSignal).count() == 200U);
    CHECK(rig.engine->histogram(Stage::kRisk).count() >= 1U);
  }
  // Sampled timing: one message in ten, the same decisions.
  Rig sampled;
  sampled.engine->set_timing_sample(10);
  const std::vector<OrderIntent> third = sampled.feed(stream);
  CHECK(sampled.engine->histogram(Stage::kTickToDecision).count() == 20U);
  CHECK_EQ(third.size(), first.size());
  CHECK(!first.empty());
  CHECK_EQ(first.size(), second.size());
  CHECK(std::memcmp(first.data(), second.data(), first.size() * sizeof(OrderIntent)) == 0);
}

void test_sizing_rules() {
  // Budget 10 quote at ask 1001 ticks (100.1): floor(10 / 100.1 / 0.001) = 99 lots.
  std::vector<Instrument> list{make("S0", "a")};
  BracketStrategy strategy;
  BracketConfig bracket;
  bracket.budget = {10, 1};
  CHECK(strategy.try_configure(bracket) == BracketError::kOk);
  auto engine = std::make_unique<Engine>();
  CHECK(engine->try_init(list, EngineConfig{}, &strategy) == EngineError::kOk);
  (void)engine->composite().try_set_weight(fastcore::signal::Feature::kImbalance, 1.0);
  (void)engine->composite().try_set_threshold(0.5);
  CHECK(engine->try_on_events(bullish(0, kT0)).error == EngineError::kOk);
  CHECK_EQ(engine->intents().size(), 1U);
  CHECK_EQ(engine->intents()[0].qty_lots, 99);
  bracket.budget = {0, 1};
  CHECK(strategy.try_configure(bracket) == BracketError::kNoSize);
  bracket.stop_distance = 0;
  CHECK(strategy.try_configure(bracket) == BracketError::kBadDistance);
  // bps distances: 10 bps of 1001 ticks = 1.001 -> 2 ticks (rounded up).
  bracket = BracketConfig{};
  bracket.unit = DistanceUnit::kBps;
  bracket.fixed_qty_lots = 1;
  CHECK(strategy.try_configure(bracket) == BracketError::kOk);
  CHECK_EQ(strategy.to_ticks(10, 1001), 2);
  CHECK_EQ(strategy.to_ticks(10, 10'000), 10);
  CHECK(engine->try_init({}, EngineConfig{}, nullptr) == EngineError::kBadConfig);
}


// The engine keeps P&L per instrument incrementally (a fast exact path for 64-bit factors and values, a
// checked 128-bit path otherwise); PositionBook::try_totals recomputes it from scratch. They must agree
// exactly after every fill and every mark change, per venue and in total, on instruments of both paths.
void test_pnl_matches_position_totals() {
  Instrument big;
  fastcore::common::InstrumentField failed{};
  // Notional factor 5e6 x 2e6 x 1e6 = 1e19 > 2^63: its money factor takes the checked path.
  CHECK(fastcore::common::try_make_instrument("BIG", "b", "5000000", "2000000", "0", "0", "1000000", false, big,
                                              failed) == fastcore::common::DecimalError::kOk);
  const std::vector<Instrument> list{make("S0", "a"), make("S1", "b"), big};
  Engine engine;
  EngineConfig config;
  config.order_capacity = 64;
  config.intent_capacity = 64;
  CHECK(engine.try_init(list, config, nullptr) == EngineError::kOk);
  std::uint64_t state = 12345;
  const auto next = [&state](std::uint64_t below) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % below;
  };
  std::int64_t mid[3] = {1000, 2000, 500};
  std::uint64_t trade_id = 0;
  std::int64_t ts = kT0;
  const auto agree = [&engine](int line) {
    for (int venue = -1; venue < 2; ++venue) {
      fastcore::position::Totals totals;
      CHECK(engine.positions().try_totals(venue, totals) == fastcore::position::PositionError::kOk);
      const __int128 expected = totals.realized + totals.unrealized - totals.maker_fees - totals.taker_fees;
      if (engine.day_pnl(venue) != expected) {
        std::fprintf(stderr, "P&L mismatch after step at line %d, venue %d\n", line, venue);
        CHECK(false);
      }
    }
  };
  for (int step = 0; step < 3000; ++step) {
    const auto id = static_cast<std::uint32_t>(next(3));
    ++ts;
    if (next(3) != 0) {
      // A new mid (sometimes the same one): the engine marks positions and risk at it.
      mid[id] += static_cast<std::int64_t>(next(21)) - 10;
      if (mid[id] < 20) mid[id] = 20;
      const std::vector<Event> events{
          level(id, Side::kBid, 0, 0, ts, false, EventKind::kClear),
          level(id, Side::kBid, mid[id] - 1, 1 + static_cast<std::int64_t>(next(50)), ts, false, EventKind::kSnapshotLevel),
          level(id, Side::kAsk, mid[id] + 1, 1 + static_cast<std::int64_t>(next(50)), ts, true, EventKind::kSnapshotLevel)};
      CHECK(engine.try_on_events(events).error == EngineError::kOk);
    } else {
      OrderSpec spec;
      spec.instrument_id = id;
      spec.side = next(2) != 0 ? Side::kBid : Side::kAsk;
      // Instrument 0 now and then trades 4e9 x 3e9 tick-lots (beyond int64): the checked path again.
      const bool huge = id == 0 && next(10) == 0;
      spec.px_ticks = huge ? 3'000'000'000 : mid[id] + static_cast<std::int64_t>(next(7)) - 3;
      spec.qty_lots = huge ? 4'000'000'000 : 1 + static_cast<std::int64_t>(next(100));
      spec.tif = TimeInForce::kIoc;
      const SubmitResult submitted = engine.submit(spec);
      CHECK(submitted.ok());
      const OrderIntent intent = engine.intents().back();
      engine.clear_intents();
      ExecutionReport fill = report(intent, ReportKind::kFill, intent.px_ticks, intent.qty_lots, ++trade_id, ts);
      fill.fee_units = static_cast<std::int64_t>(next(2001)) - 1000;  // rebates too
      fill.liquidity = next(2) != 0 ? FillLiquidity::kMaker : FillLiquidity::kTaker;
      CHECK(engine.try_on_reports({&fill, 1}).error == EngineError::kOk);
      // The same fill again (a replay) changes nothing.
      const __int128 before = engine.day_pnl(-1);
      CHECK(engine.try_on_reports({&fill, 1}).error == EngineError::kOk);
      CHECK(engine.day_pnl(-1) == before);
    }
    agree(__LINE__);
    engine.clear_intents();
  }
  CHECK(engine.counters().fills > 500U);
  CHECK(engine.counters().duplicate_fills == engine.counters().fills);
}

// Reports are applied in batches with their state fetched a few reports ahead: a batch whose later
// reports are bad (unknown instrument, unknown order) must still apply exactly the good ones first.
void test_report_batch_with_bad_reports() {
  Rig rig(Engine::kPrefetchFromInstruments, 5);  // enough instruments for the engine to fetch ahead
  std::vector<OrderIntent> entries;
  for (std::uint32_t id = 0; id < 3; ++id) entries.push_back(rig.feed(bullish(id, kT0 + id)).at(0));
  std::vector<ExecutionReport> batch;
  for (std::uint32_t id = 0; id < 3; ++id) {
    batch.push_back(report(entries[id], ReportKind::kFill, 1001, 2, 10 + id, kT0 + 10));
    batch.push_back(report(entries[id], ReportKind::kFill, 1001, 3, 20 + id, kT0 + 11));
  }
  ExecutionReport unknown_order = batch[0];
  unknown_order.order_id = ~std::uint64_t{0};  // slot far beyond the table: ignored by the prefetch
  unknown_order.kind = ReportKind::kAck;
  batch.push_back(unknown_order);
  ExecutionReport bad = batch[0];
  bad.instrument_id = 1'000'000;  // fetched ahead while the first reports are applied: must be harmless
  batch.push_back(bad);
  batch.push_back(batch[1]);
  const ApplyResult result = rig.engine->try_on_reports(batch);
  CHECK(result.error == EngineError::kBadReport);
  CHECK_EQ(result.applied, 7U);
  for (std::uint32_t id = 0; id < 3; ++id) CHECK_EQ(rig.engine->positions()[id].net_lots(), 5);
  CHECK_EQ(rig.engine->counters().fills, 6U);
  CHECK_EQ(rig.engine->counters().unknown_reports, 1U);
  // The take-profits were placed for every entry, and the strategy's public slot carries the last decision.
  CHECK(rig.strategy.slot(2).phase == BracketPhase::kOpen);
  CHECK_EQ(rig.strategy.slot(2).last_decision, 1);
  CHECK_EQ(rig.engine->counters().new_orders, 6U);
}
}  // namespace

int main() {
  test_entry_on_signal();
  test_take_profit_disarms_stop();
  test_stop_cancels_take_profit_then_exits();
  test_risk_refusal_counted();
  test_kill_switch_cancels();
  test_loss_limit_moves_state();
  test_duplicate_fill_and_unknown_report();
  test_bad_events();
  test_replace_and_custom_strategy();
  test_deterministic_and_histograms();
  test_sizing_rules();
  test_pnl_matches_position_totals();
  test_report_batch_with_bad_reports();
  return report("test_engine");
}
