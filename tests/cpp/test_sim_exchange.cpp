// SimulatedExchange and Backtest: fill models, latency and time ordering, fees, determinism.
#include <cstring>
#include <limits>
#include <vector>

#include "check.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/sim/backtest.hpp"
#include "fastcore/sim/engine_strategy.hpp"
#include "fastcore/sim/exchange.hpp"
#include "fastcore/sim/synthetic_market.hpp"

namespace {

using fastcore::common::Event;
using fastcore::common::EventKind;
using fastcore::common::Side;
using fastcore::engine::ExecutionReport;
using fastcore::engine::FillLiquidity;
using fastcore::engine::IntentKind;
using fastcore::engine::OrderIntent;
using fastcore::engine::OrderType;
using fastcore::engine::ReportKind;
using fastcore::engine::ReportReason;
using fastcore::engine::TimeInForce;
using fastcore::sim::Backtest;
using fastcore::sim::BacktestConfig;
using fastcore::sim::ExchangeConfig;
using fastcore::sim::ExchangeError;
using fastcore::sim::InstrumentSpec;
using fastcore::sim::LatencyModel;
using fastcore::sim::QueueModel;
using fastcore::sim::SimulatedExchange;

constexpr std::int64_t kEnd = std::numeric_limits<std::int64_t>::max();

Event level(Side side, std::int64_t px, std::int64_t qty, std::int64_t ts, std::uint32_t id = 0) {
  Event e{};
  e.ts_exchange_ns = ts;
  e.ts_local_ns = ts;
  e.px_ticks = px;
  e.qty_lots = qty;
  e.instrument_id = id;
  e.kind = EventKind::kDelta;
  e.side = side;
  return e;
}

Event trade(Side aggressor, std::int64_t px, std::int64_t qty, std::int64_t ts) {
  Event e = level(aggressor, px, qty, ts);
  e.kind = EventKind::kTrade;
  return e;
}

OrderIntent order(std::uint64_t id, Side side, std::int64_t px, std::int64_t qty, std::int64_t ts,
                  TimeInForce tif = TimeInForce::kGtc, OrderType type = OrderType::kLimit) {
  OrderIntent intent{};
  intent.ts_ns = ts;
  intent.px_ticks = px;
  intent.qty_lots = qty;
  intent.order_id = id;
  intent.kind = IntentKind::kNew;
  intent.side = side;
  intent.type = type;
  intent.tif = tif;
  return intent;
}

OrderIntent cancel(std::uint64_t id, std::int64_t ts) {
  OrderIntent intent = order(id, Side::kBid, 0, 0, ts);
  intent.kind = IntentKind::kCancel;
  return intent;
}

OrderIntent replace(std::uint64_t id, std::int64_t px, std::int64_t qty, std::int64_t ts) {
  OrderIntent intent = order(id, Side::kBid, px, qty, ts);
  intent.kind = IntentKind::kReplace;
  return intent;
}

ExchangeConfig config(std::int64_t order_ns = 0, std::int64_t response_ns = 0) {
  ExchangeConfig c;
  c.instruments.push_back(InstrumentSpec{});
  c.order_latency.lo_ns = order_ns;
  c.response_latency.lo_ns = response_ns;
  return c;
}

std::vector<ExecutionReport> drain(SimulatedExchange& x, std::int64_t until = kEnd) {
  std::vector<ExecutionReport> out(256);
  out.resize(x.drain_reports(out, until));
  return out;
}

void feed(SimulatedExchange& x, const Event& e) { CHECK(x.try_on_event(e) == ExchangeError::kOk); }

// Asks 101 x 5, 102 x 5, 103 x 10; bids 100 x 10, 99 x 10, at t = 10.
void standard_book(SimulatedExchange& x) {
  feed(x, level(Side::kAsk, 101, 5, 10));
  feed(x, level(Side::kAsk, 102, 5, 10));
  feed(x, level(Side::kAsk, 103, 10, 10));
  feed(x, level(Side::kBid, 100, 10, 10));
  feed(x, level(Side::kBid, 99, 10, 10));
}

void test_config_validation() {
  ExchangeConfig c = config();
  CHECK(validate(c) == ExchangeError::kOk);
  c.order_latency.lo_ns = -1;
  CHECK(validate(c) == ExchangeError::kBadLatency);
  c = config();
  c.response_latency.kind = LatencyModel::Kind::kSamples;
  CHECK(validate(c) == ExchangeError::kBadLatency);
  c = config();
  c.instruments[0].taker_fee_bps_e4 = 100'000'001;
  CHECK(validate(c) == ExchangeError::kBadFee);
  c = config();
  c.queue_power = 0;
  CHECK(validate(c) == ExchangeError::kBadQueuePower);
  c = config();
  c.instruments.clear();
  CHECK(validate(c) == ExchangeError::kNoInstruments);
  CHECK(std::strlen(describe(ExchangeError::kBadLatency)) > 10);
}

void test_market_walks_the_book() {
  ExchangeConfig c = config();
  c.instruments[0].taker_fee_bps_e4 = 50'000;  // 5 bps
  c.instruments[0].notional_factor = 10'000;
  SimulatedExchange x(c);
  standard_book(x);
  x.submit(order(1, Side::kBid, 0, 12, 20, TimeInForce::kGtc, OrderType::kMarket));
  x.advance_to(kEnd);
  const auto r = drain(x);
  CHECK_EQ(r.size(), 3U);  // three fills, nothing left to cancel
  CHECK(r[0].kind == ReportKind::kFill && r[0].px_ticks == 101 && r[0].qty_lots == 5);
  CHECK(r[1].kind == ReportKind::kFill && r[1].px_ticks == 102 && r[1].qty_lots == 5);
  CHECK(r[2].kind == ReportKind::kFill && r[2].px_ticks == 103 && r[2].qty_lots == 2);
  CHECK(r[0].liquidity == FillLiquidity::kTaker);
  CHECK_EQ(r[0].fee_units, 2525);  // 101 x 5 x 10,000 x 5 bps, exact
  CHECK_EQ(r[2].fee_units, 1030);  // 103 x 2 x 10,000 x 5 bps
  CHECK(r[0].trade_id != 0 && r[1].trade_id == r[0].trade_id + 1);
  CHECK_EQ(x.position_lots(0), 12);

  // More than the whole side: everything, then the rest cancelled for want of liquidity.
  x.submit(order(2, Side::kAsk, 0, 25, 30, TimeInForce::kGtc, OrderType::kMarket));
  x.advance_to(kEnd);
  const auto s = drain(x);
  CHECK_EQ(s.size(), 3U);
  CHECK(s[0].px_ticks == 100 && s[0].qty_lots == 10 && s[1].px_ticks == 99 && s[1].qty_lots == 10);
  CHECK(s[2].kind == ReportKind::kCancelled && s[2].reason == ReportReason::kNoLiquidity);
}

void test_ioc_and_gtc_crossing() {
  SimulatedExchange x(config());
  standard_book(x);
  x.submit(order(1, Side::kBid, 101, 8, 20, TimeInForce::kIoc));
  x.submit(order(2, Side::kBid, 102, 13, 20, TimeInForce::kGtc));
  x.advance_to(kEnd);
  const auto r = drain(x);
  CHECK_EQ(r.size(), 5U);
  CHECK(r[0].kind == ReportKind::kFill && r[0].qty_lots == 5 && r[0].order_id == 1);
  CHECK(r[1].kind == ReportKind::kCancelled && r[1].reason == ReportReason::kNoLiquidity && r[1].order_id == 1);
  // No market impact: the replayed book still has 101 x 5 for the next order.
  CHECK(r[2].order_id == 2 && r[2].px_ticks == 101 && r[2].qty_lots == 5);
  CHECK(r[3].order_id == 2 && r[3].px_ticks == 102 && r[3].qty_lots == 5);
  CHECK(r[4].kind == ReportKind::kAck && r[4].order_id == 2);
  CHECK_EQ(x.open_orders(), 1U);
  CHECK_EQ(x.queue_ahead(2), 0);  // nothing rested at 102 on the bid side
}

void test_post_only() {
  SimulatedExchange x(config());
  standard_book(x);
  x.submit(order(1, Side::kBid, 101, 1, 20, TimeInForce::kPostOnly));
  x.submit(order(2, Side::kBid, 100, 1, 20, TimeInForce::kPostOnly));
  x.advance_to(kEnd);
  const auto r = drain(x);
  CHECK_EQ(r.size(), 2U);
  CHECK(r[0].kind == ReportKind::kCancelled && r[0].reason == ReportReason::kPostOnlyWouldCross);
  CHECK(r[1].kind == ReportKind::kAck && r[1].order_id == 2);
  CHECK_EQ(x.stats().fills, 0U);
  CHECK_EQ(x.queue_ahead(2), 10);
}

void test_trade_through_queue() {
  SimulatedExchange x(config());
  standard_book(x);
  x.submit(order(1, Side::kBid, 100, 5, 20));
  x.advance_to(kEnd);
  CHECK_EQ(drain(x).size(), 1U);  // ack
  CHECK_EQ(x.queue_ahead(1), 10);
  feed(x, trade(Side::kAsk, 100, 4, 30));  // a seller takes 4 of the 10 ahead
  CHECK_EQ(x.queue_ahead(1), 6);
  CHECK(drain(x).empty());
  feed(x, level(Side::kBid, 100, 6, 30));  // the book shows the trade: no further move
  CHECK_EQ(x.queue_ahead(1), 6);
  feed(x, level(Side::kBid, 100, 4, 40));  // a cancel of 2: the conservative model caps ahead at the level
  CHECK_EQ(x.queue_ahead(1), 4);
  feed(x, level(Side::kBid, 100, 9, 45));  // additions go behind us
  CHECK_EQ(x.queue_ahead(1), 4);
  feed(x, trade(Side::kAsk, 100, 6, 50));  // 4 ahead, 2 to us: a partial fill
  auto r = drain(x);
  CHECK_EQ(r.size(), 1U);
  CHECK(r[0].kind == ReportKind::kFill && r[0].qty_lots == 2 && r[0].px_ticks == 100 &&
        r[0].liquidity == FillLiquidity::kMaker);
  CHECK_EQ(x.queue_ahead(1), 0);
  feed(x, trade(Side::kBid, 100, 50, 55));  // a buyer: not our side, nothing happens
  CHECK(drain(x).empty());
  feed(x, trade(Side::kAsk, 99, 1, 60));  // traded through our price: the rest fills
  r = drain(x);
  CHECK_EQ(r.size(), 1U);
  CHECK(r[0].qty_lots == 3 && r[0].px_ticks == 100);
  CHECK_EQ(x.open_orders(), 0U);
  CHECK_EQ(x.queue_ahead(1), -1);
}

void test_book_crossing_our_price_fills() {
  SimulatedExchange x(config());
  standard_book(x);
  x.submit(order(1, Side::kAsk, 105, 4, 20));
  x.submit(order(2, Side::kBid, 100, 3, 20));
  x.advance_to(kEnd);
  CHECK_EQ(drain(x).size(), 2U);
  feed(x, level(Side::kBid, 106, 1, 30));  // a bid rests above our ask: whoever posted it went through us
  auto r = drain(x);
  CHECK_EQ(r.size(), 1U);
  CHECK(r[0].order_id == 1 && r[0].qty_lots == 4 && r[0].px_ticks == 105 && r[0].liquidity == FillLiquidity::kMaker);
  feed(x, level(Side::kAsk, 100, 2, 40));  // an ask at our bid price
  r = drain(x);
  CHECK_EQ(r.size(), 1U);
  CHECK(r[0].order_id == 2 && r[0].qty_lots == 3 && r[0].px_ticks == 100);
}

void test_probabilistic_queue() {
  // We join 10 ahead, 10 more join behind, then 5 are cancelled: with f(x) = x^2 the cancel is ahead
  // of us with probability 100 / (100 + 100) = 1/2. The trade-through model never moves.
  int moved = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    ExchangeConfig c = config();
    c.queue_model = QueueModel::kProbabilistic;
    c.seed = seed;
    SimulatedExchange x(c);
    standard_book(x);
    x.submit(order(1, Side::kBid, 100, 5, 20));
    x.advance_to(kEnd);
    feed(x, level(Side::kBid, 100, 20, 30));
    feed(x, level(Side::kBid, 100, 15, 40));
    const std::int64_t ahead = x.queue_ahead(1);
    CHECK(ahead == 5 || ahead == 10);
    moved += ahead == 5;
  }
  CHECK(moved > 150 && moved < 250);
  // All the cancel could only be ahead: 10 ahead, 0 behind.
  ExchangeConfig c = config();
  c.queue_model = QueueModel::kProbabilistic;
  SimulatedExchange x(c);
  standard_book(x);
  x.submit(order(1, Side::kBid, 100, 5, 20));
  x.advance_to(kEnd);
  feed(x, level(Side::kBid, 100, 7, 30));
  CHECK_EQ(x.queue_ahead(1), 7);
  // A decrease the trade prints already explain does not move us again.
  feed(x, trade(Side::kAsk, 100, 2, 40));
  CHECK_EQ(x.queue_ahead(1), 5);
  feed(x, level(Side::kBid, 100, 5, 40));
  CHECK_EQ(x.queue_ahead(1), 5);
  // Conservative model on the same script stays put at the first step.
  SimulatedExchange y(config());
  standard_book(y);
  y.submit(order(1, Side::kBid, 100, 5, 20));
  y.advance_to(kEnd);
  feed(y, level(Side::kBid, 100, 20, 30));
  feed(y, level(Side::kBid, 100, 15, 40));
  CHECK_EQ(y.queue_ahead(1), 10);
}

void test_own_orders_queue_behind_each_other() {
  SimulatedExchange x(config());
  standard_book(x);
  x.submit(order(1, Side::kBid, 100, 5, 20));
  x.submit(order(2, Side::kBid, 100, 3, 20));
  x.advance_to(kEnd);
  CHECK_EQ(x.queue_ahead(1), 10);
  CHECK_EQ(x.queue_ahead(2), 15);
  feed(x, trade(Side::kAsk, 100, 14, 30));  // 10 ahead of #1, 4 to #1; #2 still has 1 ahead
  const auto r = drain(x);
  CHECK_EQ(r.size(), 3U);
  CHECK(r[2].order_id == 1 && r[2].qty_lots == 4);
  CHECK_EQ(x.queue_ahead(2), 1);
}

void test_latency_and_no_look_ahead() {
  SimulatedExchange x(config(1'000, 500));
  feed(x, level(Side::kAsk, 101, 5, 1'000));
  feed(x, level(Side::kAsk, 102, 5, 1'000));
  x.submit(order(1, Side::kBid, 0, 5, 100, TimeInForce::kGtc, OrderType::kMarket));  // arrives at 1,100
  feed(x, level(Side::kAsk, 101, 0, 1'100));  // at the arrival time: the order sees it
  CHECK_EQ(x.pending_intents(), 1U);          // not matched yet: more events at 1,100 could come
  feed(x, level(Side::kAsk, 101, 5, 1'101));  // after the arrival: the order must not see it
  CHECK_EQ(x.pending_intents(), 0U);
  CHECK(drain(x, 1'599).empty());  // the report is on its way for 500 ns
  const auto r = drain(x, 1'600);
  CHECK_EQ(r.size(), 1U);
  CHECK(r[0].px_ticks == 102 && r[0].ts_exchange_ns == 1'100 && r[0].ts_local_ns == 1'600);
  CHECK_EQ(x.stats().late_orders, 0U);
  CHECK_EQ(x.order_latency().max(), 1'000U);
}

void test_send_order_and_late_orders() {
  ExchangeConfig c = config();
  c.order_latency.kind = LatencyModel::Kind::kUniform;
  c.order_latency.lo_ns = 0;
  c.order_latency.hi_ns = 1'000'000;
  SimulatedExchange x(c);
  standard_book(x);
  // Cancels follow their orders even when their own draw was shorter: one session keeps send order.
  for (std::uint64_t id = 1; id <= 50; ++id) {
    x.submit(order(id, Side::kBid, 90, 1, 100));
    x.submit(cancel(id, 100));
  }
  x.advance_to(kEnd);
  const auto r = drain(x);
  CHECK_EQ(r.size(), 100U);
  for (std::size_t i = 0; i < r.size(); i += 2) {
    CHECK(r[i].kind == ReportKind::kAck && r[i + 1].kind == ReportKind::kCancelled &&
          r[i + 1].reason == ReportReason::kUserCancel && r[i].order_id == r[i + 1].order_id);
    if (i > 0) CHECK(r[i].ts_local_ns >= r[i - 1].ts_local_ns);
  }
  // An intent sent "before" what the venue already applied is matched now and counted.
  SimulatedExchange y(config(10));
  standard_book(y);
  feed(y, level(Side::kAsk, 110, 1, 5'000));
  y.submit(order(1, Side::kBid, 101, 1, 100, TimeInForce::kIoc));
  y.advance_to(kEnd);
  CHECK_EQ(y.stats().late_orders, 1U);
  CHECK_EQ(drain(y)[0].ts_exchange_ns, 5'000);
}

void test_cancel_race_and_replace() {
  SimulatedExchange x(config(1'000));
  standard_book(x);
  x.submit(order(1, Side::kBid, 100, 5, 0));  // arrives at 1,000
  feed(x, level(Side::kBid, 99, 11, 1'500));
  x.submit(cancel(1, 1'500));                 // arrives at 2,500, after the fill below
  feed(x, trade(Side::kAsk, 98, 20, 2'000));  // traded through 100: filled
  feed(x, level(Side::kBid, 99, 12, 3'000));
  auto r = drain(x);
  CHECK_EQ(r.size(), 3U);
  CHECK(r[0].kind == ReportKind::kAck);
  CHECK(r[1].kind == ReportKind::kFill && r[1].qty_lots == 5);
  CHECK(r[2].kind == ReportKind::kReject && r[2].reason == ReportReason::kUnknownOrder);

  x.submit(order(2, Side::kBid, 100, 5, 3'000));
  feed(x, level(Side::kBid, 99, 13, 5'000));
  CHECK_EQ(x.queue_ahead(2), 10);
  feed(x, trade(Side::kAsk, 100, 3, 5'100));
  CHECK_EQ(x.queue_ahead(2), 7);
  x.submit(replace(2, 100, 4, 5'100));  // smaller, same price: keeps the place
  feed(x, level(Side::kBid, 99, 14, 7'000));
  CHECK_EQ(x.queue_ahead(2), 7);
  x.submit(replace(2, 99, 4, 7'000));  // new price: back of the 99 queue
  feed(x, level(Side::kBid, 99, 15, 9'000));
  CHECK_EQ(x.queue_ahead(2), 14);  // the 14 resting at 99 when it arrived; the 15th came later
  x.submit(replace(2, 103, 4, 9'000));  // now crossing: takes 101 x 4
  x.submit(replace(77, 100, 1, 9'000));  // unknown
  feed(x, level(Side::kBid, 99, 16, 11'000));
  r = drain(x);
  CHECK_EQ(r.size(), 5U);
  CHECK(r[0].kind == ReportKind::kAck && r[1].kind == ReportKind::kAck && r[2].kind == ReportKind::kAck);
  CHECK(r[3].kind == ReportKind::kFill && r[3].px_ticks == 101 && r[3].qty_lots == 4);
  CHECK(r[4].kind == ReportKind::kReject && r[4].reason == ReportReason::kUnknownOrder && r[4].order_id == 77);
  CHECK_EQ(x.open_orders(), 0U);
}

void test_fees_and_rebates() {
  ExchangeConfig c = config();
  c.instruments[0].maker_fee_bps_e4 = -10'000;  // -1 bp rebate
  c.instruments[0].taker_fee_bps_e4 = 50'000;
  SimulatedExchange x(c);
  feed(x, level(Side::kAsk, 12'345, 1, 10));
  feed(x, level(Side::kBid, 12'000, 1, 10));
  x.submit(order(1, Side::kBid, 12'345, 1, 20, TimeInForce::kIoc));  // 12,345 x 5 bps = 6.1725 -> 7
  x.submit(order(2, Side::kAsk, 13'000, 3, 20));                     // 39,000 x -1 bp = -3.9 -> -3
  x.advance_to(kEnd);
  feed(x, trade(Side::kBid, 13'001, 1, 30));
  const auto r = drain(x);
  CHECK_EQ(r.size(), 3U);
  CHECK(r[0].kind == ReportKind::kFill && r[0].fee_units == 7);
  CHECK(r[2].kind == ReportKind::kFill && r[2].fee_units == -3 && r[2].liquidity == FillLiquidity::kMaker);
}

void test_reduce_only_and_bad_intents() {
  SimulatedExchange x(config());
  standard_book(x);
  OrderIntent ro = order(1, Side::kAsk, 0, 3, 20, TimeInForce::kIoc, OrderType::kMarket);
  ro.reduce_only = 1;
  x.submit(ro);  // flat: nothing to reduce
  x.submit(order(2, Side::kBid, 101, 2, 20, TimeInForce::kIoc));
  ro.order_id = 3;
  x.submit(ro);  // clipped to the 2 held
  x.submit(order(0, Side::kBid, 100, 1, 20));  // id 0
  OrderIntent bad = order(4, Side::kBid, 100, 1, 20);
  bad.instrument_id = 9;
  x.submit(bad);
  x.submit(order(5, Side::kBid, 100, 0, 20));  // no quantity
  x.submit(order(6, Side::kBid, 90, 1, 20));
  x.submit(order(6, Side::kBid, 90, 1, 20));  // duplicate of a resting order
  x.submit(cancel(999, 20));
  x.advance_to(kEnd);
  const auto r = drain(x);
  CHECK_EQ(r.size(), 9U);
  CHECK(r[0].kind == ReportKind::kReject && r[0].order_id == 1);
  CHECK(r[1].kind == ReportKind::kFill && r[1].order_id == 2);
  CHECK(r[2].kind == ReportKind::kFill && r[2].order_id == 3 && r[2].qty_lots == 2);
  for (std::size_t i = 3; i < 6; ++i) CHECK(r[i].kind == ReportKind::kReject && r[i].reason == ReportReason::kVenueRejected);
  CHECK(r[6].kind == ReportKind::kAck && r[7].kind == ReportKind::kReject);
  CHECK(r[8].kind == ReportKind::kReject && r[8].reason == ReportReason::kUnknownOrder);
  CHECK_EQ(x.position_lots(0), 0);
  CHECK_EQ(x.stats().rejects, 6U);

  Event unknown = level(Side::kBid, 1, 1, 30);
  unknown.instrument_id = 3;
  CHECK(x.try_on_event(unknown) == ExchangeError::kUnknownInstrument);
  CHECK(x.try_on_event(level(Side::kBid, 1, -1, 30)) == ExchangeError::kBookRefused);
}

void test_capacity() {
  ExchangeConfig c = config();
  c.max_open_orders = 4;
  SimulatedExchange x(c);
  standard_book(x);
  for (std::uint64_t id = 1; id <= 6; ++id) x.submit(order(id, Side::kBid, 90, 1, 20));
  x.advance_to(kEnd);
  auto r = drain(x);
  CHECK_EQ(r.size(), 6U);
  CHECK(r[4].kind == ReportKind::kReject && r[5].kind == ReportKind::kReject);
  // The index survives churn: cancel and re-add many times.
  for (std::uint64_t round = 0; round < 1000; ++round) {
    x.submit(cancel(1 + round % 4 + (round / 4) * 100, 30));
    x.submit(order(1 + round % 4 + (round / 4 + 1) * 100, Side::kBid, 90, 1, 30));
  }
  x.advance_to(kEnd);
  r = drain(x);
  std::size_t rejects = 0;
  for (const auto& report : r) rejects += report.kind == ReportKind::kReject;
  CHECK_EQ(rejects, 0U);
  CHECK_EQ(x.open_orders(), 4U);
}

// A small deterministic strategy for the backtest: every 50th event it quotes one lot on the bid at
// the best bid when flat and on the ask at the best ask when long; it cancels what is open first.
class QuoteStrategy final : public fastcore::sim::Strategy {
 public:
  void on_events(std::span<const Event> events, std::vector<OrderIntent>& out) override {
    for (const Event& e : events) {
      CHECK(book_.try_apply(e) == fastcore::book::ApplyError::kOk);
      ++seen_;
      if (seen_ % 50 != 0) continue;
      const auto& book = book_;
      if (book.bids().empty() || book.asks().empty()) continue;
      if (open_ != 0) {
        OrderIntent c = cancel(open_, 0);
        c.ts_trigger_local_ns = e.ts_local_ns;
        out.push_back(c);
      }
      const bool buy = position_ <= 0;
      const std::int64_t px = buy ? book.bids().best().px_ticks : book.asks().best().px_ticks;
      OrderIntent n = order(++next_id_, buy ? Side::kBid : Side::kAsk, px, 1, 0);
      n.ts_trigger_local_ns = e.ts_local_ns;
      out.push_back(n);
      open_ = next_id_;
    }
  }
  void on_reports(std::span<const ExecutionReport> reports, std::vector<OrderIntent>&) override {
    for (const ExecutionReport& r : reports) {
      reports_.push_back(r);
      if (r.kind == ReportKind::kFill) position_ += r.side == Side::kBid ? r.qty_lots : -r.qty_lots;
      if ((r.kind == ReportKind::kFill || r.kind == ReportKind::kCancelled) && r.order_id == open_) open_ = 0;
    }
  }
  std::vector<ExecutionReport> reports_;

 private:
  fastcore::book::Book book_;
  std::uint64_t seen_ = 0;
  std::uint64_t next_id_ = 0;
  std::uint64_t open_ = 0;
  std::int64_t position_ = 0;
};

std::vector<ExecutionReport> run_backtest(std::uint64_t seed, QueueModel model, std::size_t chunk,
                                          std::size_t* trips = nullptr) {
  fastcore::sim::SyntheticMarketConfig market_config;
  market_config.seed = 7;
  market_config.snapshot_levels = 50;
  fastcore::sim::SyntheticMarket market(market_config);
  std::vector<Event> events(60'000);
  market.generate(events);
  ExchangeConfig c = config();
  c.order_latency.kind = LatencyModel::Kind::kUniform;
  c.order_latency.lo_ns = 200'000;
  c.order_latency.hi_ns = 2'000'000;
  c.response_latency.kind = LatencyModel::Kind::kSamples;
  c.response_latency.samples = {300'000, 400'000, 900'000};
  c.queue_model = model;
  c.seed = seed;
  c.instruments[0].maker_fee_bps_e4 = 20'000;
  c.instruments[0].taker_fee_bps_e4 = 50'000;
  SimulatedExchange x(c);
  QuoteStrategy strategy;
  Backtest backtest(x, strategy, BacktestConfig{});
  CHECK_EQ(backtest.max_span_ns(), 500'000);
  for (std::size_t first = 0; first < events.size(); first += chunk) {
    const std::size_t take = std::min(chunk, events.size() - first);
    std::size_t applied = 0;
    CHECK(backtest.try_run(std::span<const Event>(events).subspan(first, take), applied) == ExchangeError::kOk);
    CHECK_EQ(applied, take);
  }
  backtest.finish();
  CHECK_EQ(backtest.stats().events, events.size());
  CHECK_EQ(x.stats().late_orders, 0U);
  CHECK(x.stats().fills > 10);
  CHECK_EQ(backtest.stats().reports, strategy.reports_.size());
  CHECK_EQ(backtest.ledger().fills(), x.stats().fills);
  // Reports reach the strategy in time order and never before the venue produced them.
  for (std::size_t i = 0; i < strategy.reports_.size(); ++i) {
    CHECK(strategy.reports_[i].ts_local_ns >= strategy.reports_[i].ts_exchange_ns);
    if (i > 0) CHECK(strategy.reports_[i].ts_local_ns >= strategy.reports_[i - 1].ts_local_ns);
  }
  if (trips != nullptr) *trips = backtest.ledger().trips().size();
  return strategy.reports_;
}

void test_backtest_determinism() {
  std::size_t trips = 0;
  const auto a = run_backtest(11, QueueModel::kProbabilistic, 60'000, &trips);
  const auto b = run_backtest(11, QueueModel::kProbabilistic, 60'000);
  // Chunked: same checks; chunk ends also end spans, so reports may reach the strategy sooner.
  const auto chunked = run_backtest(11, QueueModel::kProbabilistic, 977);
  const auto chunked_again = run_backtest(11, QueueModel::kProbabilistic, 977);
  const auto other = run_backtest(12, QueueModel::kProbabilistic, 60'000);
  CHECK(trips > 5);
  CHECK_EQ(a.size(), b.size());
  CHECK(a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(ExecutionReport)) == 0);
  CHECK(chunked.size() == chunked_again.size() &&
        std::memcmp(chunked.data(), chunked_again.data(), chunked.size() * sizeof(ExecutionReport)) == 0);
  CHECK(a.size() != other.size() || std::memcmp(a.data(), other.data(), a.size() * sizeof(ExecutionReport)) != 0);
  run_backtest(11, QueueModel::kTradeThrough, 60'000);
}

void test_ledger_round_trips() {
  ExchangeConfig c = config();
  c.instruments[0].taker_fee_bps_e4 = 100'000'000 / 10'000;  // 1 bp
  c.instruments[0].notional_factor = 1'000'000;
  SimulatedExchange x(c);
  fastcore::sim::TradeLedger ledger(1);
  x.set_fill_listener(&ledger);
  standard_book(x);  // 2 x mid = 201
  x.submit(order(1, Side::kBid, 101, 4, 20, TimeInForce::kIoc));  // 2 x 101 - 201 = 1 against us per lot
  x.advance_to(kEnd);
  for (const std::int64_t px : {101, 102, 103}) feed(x, level(Side::kAsk, px, 0, 30));
  feed(x, level(Side::kAsk, 105, 10, 30));
  feed(x, level(Side::kBid, 100, 0, 30));
  feed(x, level(Side::kBid, 104, 10, 30));  // 2 x mid = 209
  x.submit(order(2, Side::kAsk, 104, 6, 40, TimeInForce::kIoc));  // closes 4, opens 2 short; 209 - 208 = 1 per lot
  x.advance_to(kEnd);
  const auto& trips = ledger.trips();
  CHECK_EQ(trips.size(), 1U);
  CHECK_EQ(trips[0].gross_tl, 12);  // (104 - 101) x 4
  CHECK_EQ(trips[0].entry_tl, 404);
  CHECK_EQ(trips[0].slippage_x2_tl, 4 + 6);
  CHECK_EQ(trips[0].fee_units, 40'400 + 62'400);  // 1 bp of 404 and 624 tick-lots x 10^6; the flip fill's whole fee
  CHECK_EQ(trips[0].fills, 2U);
  CHECK_EQ(ledger.position(0).net_lots(), -2);
  CHECK(ledger.refused() == 0);
}

// The engine with its bracket strategy, driven by the backtest against the venue: every intent reaches
// the venue, every report reaches the engine, the engine knows every order, and a rerun is identical.
std::vector<ExecutionReport> run_engine_backtest(std::uint64_t seed) {
  fastcore::sim::SyntheticMarketConfig market_config;
  market_config.seed = 3;
  fastcore::sim::SyntheticMarket market(market_config);
  std::vector<Event> events(200'000);
  market.generate(events);
  fastcore::common::Instrument instrument;
  fastcore::common::InstrumentField failed{};
  CHECK(fastcore::common::try_make_instrument("SYNTH", "synthetic", "0.1", "0.001", "0.001", "0", "1", false,
                                              instrument, failed) == fastcore::common::DecimalError::kOk);
  fastcore::engine::BracketStrategy bracket;
  fastcore::engine::BracketConfig bracket_config;
  bracket_config.stop_distance = 10;
  bracket_config.fixed_qty_lots = 10;
  CHECK(bracket.try_configure(bracket_config) == fastcore::engine::BracketError::kOk);
  fastcore::engine::Engine engine;
  fastcore::engine::EngineConfig engine_config;
  engine_config.timing = false;
  CHECK(engine.try_init(std::span(&instrument, 1), engine_config, &bracket) == fastcore::engine::EngineError::kOk);
  CHECK(engine.composite().try_set_weight(fastcore::signal::Feature::kImbalance, 1.0) ==
        fastcore::signal::SignalError::kOk);
  CHECK(engine.composite().try_set_threshold(0.5) == fastcore::signal::SignalError::kOk);

  ExchangeConfig c = config(1'000'000, 1'000'000);
  c.queue_model = QueueModel::kProbabilistic;
  c.seed = seed;
  SimulatedExchange x(c);
  fastcore::sim::EngineStrategy strategy(engine);
  Backtest backtest(x, strategy, BacktestConfig{});
  std::size_t applied = 0;
  CHECK(backtest.try_run(events, applied) == ExchangeError::kOk);
  backtest.finish();
  CHECK_EQ(applied, events.size());
  CHECK(strategy.first_error().error == fastcore::engine::EngineError::kOk);
  CHECK(x.stats().fills > 0);
  CHECK_EQ(x.stats().late_orders, 0U);
  CHECK_EQ(engine.counters().intents, x.stats().intents);
  CHECK_EQ(engine.counters().reports, backtest.stats().reports);
  CHECK_EQ(engine.counters().unknown_reports, 0U);
  CHECK_EQ(engine.counters().fills, x.stats().fills);
  std::vector<ExecutionReport> trips_as_reports;
  for (const auto& trip : backtest.ledger().trips()) {
    ExecutionReport r{};
    r.ts_exchange_ns = trip.ts_close_ns;
    r.px_ticks = trip.gross_tl;
    r.fee_units = trip.fee_units;
    trips_as_reports.push_back(r);
  }
  return trips_as_reports;
}

void test_engine_backtest() {
  const auto a = run_engine_backtest(5);
  const auto b = run_engine_backtest(5);
  CHECK(!a.empty());
  CHECK(a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(ExecutionReport)) == 0);
}

// Feed latency is recorded once per message (events sharing both times), not once per level.
void test_feed_latency_once_per_message() {
  SimulatedExchange x(config());
  Event a = level(Side::kBid, 100, 1, 1'000);
  a.ts_local_ns = 1'500;  // 500 ns feed latency for the whole message
  feed(x, a);
  Event b = a;
  b.px_ticks = 99;
  feed(x, b);  // same message: not counted again
  Event c = level(Side::kAsk, 101, 1, 2'000);
  c.ts_local_ns = 2'700;  // the next message: 700 ns
  feed(x, c);
  Event d = c;
  d.ts_local_ns = 2'900;  // same exchange time, later arrival: a different message
  feed(x, d);
  CHECK(x.feed_latency().count() == 3);
  CHECK(x.feed_latency().min() == 500);
  CHECK(x.feed_latency().max() == 900);
  CHECK(x.stats().events == 4);
}

}  // namespace

int main() {
  test_config_validation();
  test_feed_latency_once_per_message();
  test_market_walks_the_book();
  test_ioc_and_gtc_crossing();
  test_post_only();
  test_trade_through_queue();
  test_book_crossing_our_price_fills();
  test_probabilistic_queue();
  test_own_orders_queue_behind_each_other();
  test_latency_and_no_look_ahead();
  test_send_order_and_late_orders();
  test_cancel_race_and_replace();
  test_fees_and_rebates();
  test_reduce_only_and_bad_intents();
  test_capacity();
  test_backtest_determinism();
  test_ledger_round_trips();
  test_engine_backtest();
  return report("test_sim_exchange");
}
