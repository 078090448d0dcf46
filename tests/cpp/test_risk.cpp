// Pre-trade risk: each check on its accepted and its refused side, in-flight accounting through the order
// lifecycle, the kill switch at every scope, throttles, loss limits, book health and self-trade prevention.
#include <climits>
#include <string>
#include <vector>

#include "check.hpp"
#include "fastcore/risk/book_view.hpp"
#include "fastcore/risk/risk_check.hpp"

namespace {

using fastcore::common::Instrument;
using fastcore::common::Side;
using namespace fastcore::risk;

// tick 0.1, lot 0.001: money unit 10^-4 quote; px_ticks x qty_lots = notional in money units.
Instrument make(const std::string& symbol, const std::string& venue, const char* min_qty = "0",
                const char* min_notional = "0") {
  Instrument instrument;
  fastcore::common::InstrumentField failed{};
  const auto error = fastcore::common::try_make_instrument(symbol, venue, "0.1", "0.001", min_qty, min_notional, "1",
                                                           false, instrument, failed);
  CHECK(error == fastcore::common::DecimalError::kOk);
  return instrument;
}

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

MarketView market(std::int64_t bid = 999, std::int64_t ask = 1001) {
  MarketView m;
  m.bid_px_ticks = bid;
  m.ask_px_ticks = ask;
  m.has_bid = m.has_ask = true;
  m.last_trade_px_ticks = 1000;
  m.has_last_trade = true;
  m.book_ts_local_ns = kNow;
  return m;
}

OrderRequest order(Side side, std::int64_t px, std::int64_t qty, std::uint32_t instrument = 0,
                   std::int64_t ts = kNow, bool reduce_only = false) {
  return OrderRequest{ts, px, qty, instrument, side, reduce_only};
}

RiskEngine make_engine(std::uint32_t capacity = 64) {
  const std::vector<Instrument> instruments{make("A", "x", "0.002", "0.5"), make("B", "x"), make("C", "y")};
  RiskEngine engine;
  CHECK(engine.try_init(instruments, capacity) == OrderError::kOk);
  return engine;
}

RiskReason check(const RiskEngine& e, const OrderRequest& r, const MarketView& m = market()) {
  return e.try_check(r, m).reason;
}

void test_describe() {
  for (int n = 0; n < kRiskReasonCount; ++n) CHECK(std::string(describe(static_cast<RiskReason>(n))) != "unknown risk reason");
  CHECK(std::string(describe(RiskReason::kQtyBelowMin)).find("minimum") != std::string::npos);
}

void test_size_and_price() {
  RiskEngine e = make_engine();
  CHECK(e.scale() == 4);
  InstrumentLimits l;
  l.max_qty_lots = 100;
  l.qty_step_lots = 2;
  l.px_step_ticks = 5;
  l.max_order_notional = 60'000;
  CHECK(e.try_set_limits(0, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 10)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 0)) == RiskReason::kBadQty);
  CHECK(check(e, order(Side::kBid, 0, 10)) == RiskReason::kBadPrice);
  // Instrument min qty 0.002 = 2 lots.
  CHECK(check(e, order(Side::kBid, 5000, 2)) == RiskReason::kOk);
  l.qty_step_lots = 1;
  CHECK(e.try_set_limits(0, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1)) == RiskReason::kQtyBelowMin);
  l.qty_step_lots = 2;
  CHECK(e.try_set_limits(0, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 100)) == RiskReason::kNotionalAboveMax);
  CHECK(check(e, order(Side::kBid, 500, 100)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 500, 102)) == RiskReason::kQtyAboveMax);
  CHECK(check(e, order(Side::kBid, 1000, 11)) == RiskReason::kNotLotMultiple);
  CHECK(check(e, order(Side::kBid, 1001, 10)) == RiskReason::kNotTickMultiple);
  // Min notional 0.5 quote = 5,000 units: 1000 ticks x 4 lots = 4,000 below, 6 lots = 6,000 above.
  CHECK(check(e, order(Side::kBid, 1000, 4)) == RiskReason::kNotionalBelowMin);
  CHECK(check(e, order(Side::kBid, 1000, 6)) == RiskReason::kOk);
  l.min_notional = 7'000;
  CHECK(e.try_set_limits(0, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 6)) == RiskReason::kNotionalBelowMin);
  l.min_notional = 0;  // Looser than the instrument's own minimum: the instrument's stays.
  CHECK(e.try_set_limits(0, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 4)) == RiskReason::kNotionalBelowMin);
  CHECK(check(e, order(Side::kBid, 1000, 6, 7)) == RiskReason::kUnknownInstrument);
  l.qty_step_lots = 0;
  CHECK(e.try_set_limits(0, l) == OrderError::kBadLimits);
  l.qty_step_lots = 1;
  l.max_qty_lots = -1;
  CHECK(e.try_set_limits(0, l) == OrderError::kBadLimits);
}

void test_collars() {
  RiskEngine e = make_engine();
  InstrumentLimits l;
  l.collar_mid_bps = 100;  // 1 % of mid 1000 = 10 ticks.
  CHECK(e.try_set_limits(1, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1010, 1, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1011, 1, 1)) == RiskReason::kOutsideCollarMid);
  CHECK(check(e, order(Side::kAsk, 990, 1, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 989, 1, 1)) == RiskReason::kOutsideCollarMid);
  MarketView one_sided = market();
  one_sided.has_ask = false;
  CHECK(check(e, order(Side::kBid, 1000, 1, 1), one_sided) == RiskReason::kNoReferencePrice);
  l.collar_mid_bps = 0;
  l.collar_last_bps = 50;  // 0.5 % of last 1000 = 5 ticks.
  CHECK(e.try_set_limits(1, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1005, 1, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1006, 1, 1)) == RiskReason::kOutsideCollarLast);
  CHECK(check(e, order(Side::kAsk, 994, 1, 1)) == RiskReason::kOutsideCollarLast);
  MarketView no_trade = market();
  no_trade.has_last_trade = false;
  CHECK(check(e, order(Side::kBid, 1000, 1, 1), no_trade) == RiskReason::kNoReferencePrice);
}

void test_position_and_in_flight() {
  RiskEngine e = make_engine();
  InstrumentLimits l;
  l.max_long_lots = 10;
  l.max_short_lots = 5;
  CHECK(e.try_set_limits(1, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 10, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 11, 1)) == RiskReason::kMaxLongPosition);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 1000, 6, 1)) == RiskReason::kMaxShortPosition);
  // In flight counts immediately: 6 sent, so 5 more would be 11.
  CHECK(e.on_order_sent(1, order(Side::kBid, 990, 6, 1)) == OrderError::kOk);
  CHECK(e.working_lots(1, Side::kBid) == 6);
  CHECK(check(e, order(Side::kBid, 990, 4, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 990, 5, 1)) == RiskReason::kMaxLongPosition);
  CHECK(e.on_ack(1) == OrderError::kOk);
  bool acked = false;
  CHECK(e.find_order(1, acked) && acked);
  // A partial fill moves exposure from working to position: still 6 in total.
  CHECK(e.on_fill(1, 990, 2) == OrderError::kOk);
  CHECK(e.net_lots(1) == 2 && e.working_lots(1, Side::kBid) == 4);
  CHECK(check(e, order(Side::kBid, 990, 5, 1)) == RiskReason::kMaxLongPosition);
  CHECK(e.on_fill(1, 990, 5) == OrderError::kOverfill);
  CHECK(e.on_cancel(1) == OrderError::kOk);
  CHECK(e.working_lots(1, Side::kBid) == 0 && e.open_orders(1) == 0);
  CHECK(check(e, order(Side::kBid, 990, 8, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 990, 9, 1)) == RiskReason::kMaxLongPosition);
  // Short side counts net: long 2 so 7 sells reach -5.
  CHECK(check(e, order(Side::kAsk, 1010, 7, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 1010, 8, 1)) == RiskReason::kMaxShortPosition);
  // Reject releases what was sent.
  CHECK(e.on_order_sent(2, order(Side::kAsk, 1010, 7, 1)) == OrderError::kOk);
  CHECK(check(e, order(Side::kAsk, 1010, 1, 1)) == RiskReason::kMaxShortPosition);
  CHECK(e.on_reject(2) == OrderError::kOk);
  CHECK(check(e, order(Side::kAsk, 1010, 1, 1)) == RiskReason::kOk);
  CHECK(e.on_reject(2) == OrderError::kUnknownOrder);
  CHECK(e.on_ack(99) == OrderError::kUnknownOrder);
  CHECK(e.on_fill(99, 1, 1) == OrderError::kUnknownOrder);
}

void test_open_orders_and_table() {
  RiskEngine e = make_engine(4);
  InstrumentLimits l;
  l.max_open_orders = 2;
  CHECK(e.try_set_limits(1, l) == OrderError::kOk);
  CHECK(e.on_order_sent(10, order(Side::kBid, 900, 1, 1)) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 900, 1, 1)) == RiskReason::kOk);
  CHECK(e.on_order_sent(10, order(Side::kBid, 900, 1, 1)) == OrderError::kDuplicateOrderId);
  CHECK(e.try_submit(10, order(Side::kBid, 900, 1, 1), market()).reason == RiskReason::kDuplicateOrderId);
  CHECK(e.try_submit(11, order(Side::kBid, 900, 1, 1), market()).reason == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 900, 1, 1)) == RiskReason::kTooManyOpenOrders);
  CHECK(e.on_fill(11, 900, 1) == OrderError::kOk);  // Fully filled: no longer open.
  CHECK(check(e, order(Side::kBid, 900, 1, 1)) == RiskReason::kOk);
  // Capacity 4: two more on instrument 2 then the table is full.
  CHECK(e.on_order_sent(12, order(Side::kBid, 900, 1, 2)) == OrderError::kOk);
  CHECK(e.on_order_sent(13, order(Side::kBid, 900, 1, 2)) == OrderError::kOk);
  CHECK(e.on_order_sent(14, order(Side::kBid, 900, 1, 2)) == OrderError::kOk);
  CHECK(e.working_orders() == 4);
  CHECK(check(e, order(Side::kBid, 900, 1, 2)) == RiskReason::kOrderTableFull);
  CHECK(e.on_order_sent(15, order(Side::kBid, 900, 1, 2)) == OrderError::kTableFull);
  CHECK(e.on_cancel(13) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 900, 1, 2)) == RiskReason::kOk);
  bool acked = true;
  CHECK(e.find_order(12, acked) && !acked);
  CHECK(e.find_order(14, acked) && !e.find_order(13, acked));
}

void test_order_index_churn() {
  // Many ids through a small table: backward-shift deletion must keep every lookup right.
  RiskEngine e = make_engine(16);
  std::vector<std::uint64_t> live;
  std::uint64_t next = 1;
  for (int round = 0; round < 2000; ++round) {
    if (live.size() < 16 && (round % 3 != 0 || live.empty())) {
      CHECK(e.on_order_sent(next * 7919, order(Side::kBid, 900, 1, 2)) == OrderError::kOk);
      live.push_back(next * 7919);
      ++next;
    } else {
      const std::size_t pick = static_cast<std::size_t>(round) % live.size();
      CHECK(e.on_cancel(live[pick]) == OrderError::kOk);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    bool acked = false;
    for (std::uint64_t id : live) CHECK(e.find_order(id, acked));
  }
  CHECK(e.working_orders() == live.size());
  CHECK(e.working_lots(2, Side::kBid) == static_cast<std::int64_t>(live.size()));
}

void test_gross_notional() {
  RiskEngine e = make_engine();
  InstrumentLimits l;
  l.max_gross_notional = 20'000;
  CHECK(e.try_set_limits(1, l) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 20, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 21, 1)) == RiskReason::kInstrumentGrossNotional);
  CHECK(e.on_order_sent(1, order(Side::kBid, 1000, 10, 1)) == OrderError::kOk);
  CHECK(check(e, order(Side::kAsk, 1010, 11, 1)) == RiskReason::kInstrumentGrossNotional);
  CHECK(e.try_set_limits(1, InstrumentLimits{}) == OrderError::kOk);

  ScopeLimits venue;
  venue.max_gross_notional = 30'000;
  CHECK(e.try_set_venue_limits(0, venue) == OrderError::kOk);
  CHECK(e.try_set_venue_limits(5, venue) == OrderError::kBadScope);
  CHECK(e.gross_notional(Scope::kVenue, 0) == 10'000);
  CHECK(check(e, order(Side::kBid, 1000, 20, 0)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 22, 0)) == RiskReason::kVenueGrossNotional);
  CHECK(check(e, order(Side::kBid, 1000, 25, 2)) == RiskReason::kOk);  // Other venue.
  ScopeLimits global;
  global.max_gross_notional = 35'000;
  CHECK(e.try_set_global_limits(global) == OrderError::kOk);
  CHECK(e.on_order_sent(2, order(Side::kBid, 1000, 20, 2)) == OrderError::kOk);
  CHECK(e.gross_notional(Scope::kGlobal, 0) == 30'000);
  CHECK(check(e, order(Side::kBid, 1000, 5, 2)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 6, 2)) == RiskReason::kTotalGrossNotional);
  // Fill moves notional to the position at the fill price; a mark revalues it.
  CHECK(e.on_fill(1, 1000, 10) == OrderError::kOk);
  CHECK(e.gross_notional(Scope::kInstrument, 1) == 10'000);
  CHECK(e.try_set_mark(1, 1500) == OrderError::kOk);
  CHECK(e.gross_notional(Scope::kVenue, 0) == 15'000);
  CHECK(e.gross_notional(Scope::kGlobal, 0) == 35'000);
  // Reducing orders pass exposure limits: selling 10 of the long 10 lowers gross.
  CHECK(check(e, order(Side::kAsk, 1000, 10, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 1000, 11, 1)) == RiskReason::kTotalGrossNotional);
  CHECK(e.try_set_position(1, 0, 1500) == OrderError::kOk);
  CHECK(e.gross_notional(Scope::kGlobal, 0) == 20'000);
}

void test_kill_switch() {
  RiskEngine e = make_engine();
  std::vector<std::uint64_t> cancels;
  CHECK(e.on_order_sent(1, order(Side::kBid, 990, 1, 0)) == OrderError::kOk);
  CHECK(e.on_order_sent(2, order(Side::kBid, 990, 1, 1)) == OrderError::kOk);
  CHECK(e.on_order_sent(3, order(Side::kBid, 990, 1, 2)) == OrderError::kOk);
  CHECK(e.on_ack(1) == OrderError::kOk);
  CHECK(e.effective_state(1) == TradingState::kActive);

  // Instrument level.
  CHECK(e.try_set_state(Scope::kInstrument, 1, TradingState::kHalted, cancels) == OrderError::kOk);
  CHECK(cancels == std::vector<std::uint64_t>{2});
  CHECK(check(e, order(Side::kBid, 1000, 1, 1)) == RiskReason::kInstrumentHalted);
  CHECK(check(e, order(Side::kBid, 1000, 6, 0)) == RiskReason::kOk);
  CHECK(e.try_set_state(Scope::kInstrument, 1, TradingState::kReduceOnly, cancels) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 1)) == RiskReason::kInstrumentReduceOnly);
  CHECK(e.try_set_position(1, 5, 1000) == OrderError::kOk);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 1000, 6, 1)) == RiskReason::kInstrumentReduceOnly);
  CHECK(e.try_set_state(Scope::kInstrument, 1, TradingState::kActive, cancels) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 1)) == RiskReason::kOk);

  // Venue level: x holds instruments 0 and 1.
  cancels.clear();
  CHECK(e.try_set_state(Scope::kVenue, 0, TradingState::kHalted, cancels) == OrderError::kOk);
  CHECK(cancels.size() == 2);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1)) == RiskReason::kVenueHalted);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2)) == RiskReason::kOk);
  CHECK(e.effective_state(0) == TradingState::kHalted && e.effective_state(2) == TradingState::kActive);
  CHECK(e.try_set_state(Scope::kVenue, 0, TradingState::kReduceOnly, cancels) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 1)) == RiskReason::kVenueReduceOnly);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1)) == RiskReason::kOk);
  // Most restrictive wins: instrument HALTED under a REDUCE_ONLY venue is HALTED.
  CHECK(e.try_set_state(Scope::kInstrument, 1, TradingState::kHalted, cancels) == OrderError::kOk);
  CHECK(e.effective_state(1) == TradingState::kHalted);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1)) == RiskReason::kInstrumentHalted);
  CHECK(e.try_set_state(Scope::kInstrument, 1, TradingState::kActive, cancels) == OrderError::kOk);
  CHECK(e.try_set_state(Scope::kVenue, 0, TradingState::kActive, cancels) == OrderError::kOk);

  // Global level.
  cancels.clear();
  CHECK(e.try_set_state(Scope::kGlobal, 0, TradingState::kHalted, cancels) == OrderError::kOk);
  CHECK(cancels.size() == 3);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2)) == RiskReason::kGlobalHalted);
  CHECK(e.try_set_state(Scope::kGlobal, 0, TradingState::kReduceOnly, cancels) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2)) == RiskReason::kGlobalReduceOnly);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1)) == RiskReason::kOk);
  CHECK(e.state(Scope::kGlobal, 0) == TradingState::kReduceOnly);
  CHECK(e.try_set_state(Scope::kGlobal, 0, TradingState::kActive, cancels) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2)) == RiskReason::kOk);
  CHECK(e.try_set_state(Scope::kVenue, 9, TradingState::kHalted, cancels) == OrderError::kBadScope);
  CHECK(e.try_set_state(Scope::kInstrument, 9, TradingState::kHalted, cancels) == OrderError::kUnknownInstrument);

  // Reduce-only flag: refused unless the order reduces, working sells included.
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1, kNow, true)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 1, kNow, true)) == RiskReason::kReduceOnlyWouldIncrease);
  CHECK(e.on_order_sent(4, order(Side::kAsk, 1010, 3, 1)) == OrderError::kOk);
  CHECK(check(e, order(Side::kAsk, 1010, 2, 1, kNow, true)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 1010, 3, 1, kNow, true)) == RiskReason::kReduceOnlyWouldIncrease);
}

void test_throttles() {
  RiskEngine e = make_engine();
  InstrumentLimits l;
  l.throttle = Throttle{10, 2};  // 10 orders/s, burst 2: one token per 100 ms.
  CHECK(e.try_set_limits(2, l) == OrderError::kOk);
  std::int64_t ts = kNow;
  std::uint64_t id = 1;
  CHECK(e.try_submit(id++, order(Side::kBid, 1000, 1, 2, ts), market()).ok());
  CHECK(e.try_submit(id++, order(Side::kBid, 1000, 1, 2, ts), market()).ok());
  CHECK(e.try_submit(id++, order(Side::kBid, 1000, 1, 2, ts), market()).reason == RiskReason::kInstrumentThrottled);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2, ts + 99'999'999)) == RiskReason::kInstrumentThrottled);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2, ts + 100'000'000)) == RiskReason::kOk);
  // A long pause refills to the burst, never beyond.
  ts += 3'600'000'000'000;
  CHECK(e.try_submit(id++, order(Side::kBid, 1000, 1, 2, ts), market()).ok());
  CHECK(e.try_submit(id++, order(Side::kBid, 1000, 1, 2, ts), market()).ok());
  CHECK(check(e, order(Side::kBid, 1000, 1, 2, ts)) == RiskReason::kInstrumentThrottled);
  // A timestamp going backwards refills nothing.
  CHECK(check(e, order(Side::kBid, 1000, 1, 2, ts - 1'000'000'000)) == RiskReason::kInstrumentThrottled);
  // Other instruments are not limited by instrument 2's bucket.
  CHECK(check(e, order(Side::kBid, 1000, 6, 0, ts)) == RiskReason::kOk);

  ScopeLimits venue;
  venue.throttle = Throttle{1, 1};
  CHECK(e.try_set_venue_limits(0, venue) == OrderError::kOk);
  CHECK(e.try_submit(id++, order(Side::kBid, 1000, 6, 0, ts), market()).ok());
  CHECK(check(e, order(Side::kBid, 1000, 1, 1, ts)) == RiskReason::kVenueThrottled);
  CHECK(check(e, order(Side::kBid, 1000, 1, 1, ts + 1'000'000'000)) == RiskReason::kOk);
  venue.throttle = Throttle{5, 0};
  CHECK(e.try_set_venue_limits(0, venue) == OrderError::kBadLimits);
}

void test_loss_limits() {
  RiskEngine e = make_engine();
  ScopeLimits g;
  g.daily_loss_reduce = 1'000;
  g.daily_loss_halt = 2'000;
  g.drawdown_reduce = 5'000;
  g.drawdown_halt = 8'000;
  CHECK(e.try_set_global_limits(g) == OrderError::kOk);
  std::vector<std::uint64_t> cancels;
  CHECK(e.on_order_sent(1, order(Side::kBid, 990, 3, 0)) == OrderError::kOk);
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, -999, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kActive);
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, -1'000, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kReduceOnly);
  CHECK(check(e, order(Side::kBid, 1000, 3, 1)) == RiskReason::kGlobalReduceOnly);
  CHECK(cancels.empty());
  // Latches on recovery.
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, 0, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kReduceOnly);
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, -2'000, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kHalted);
  CHECK(cancels == std::vector<std::uint64_t>{1});
  CHECK(check(e, order(Side::kBid, 1000, 3, 1)) == RiskReason::kGlobalHalted);
  // The manual state is untouched; reset_day re-opens.
  CHECK(e.state(Scope::kGlobal, 0) == TradingState::kActive);
  e.reset_day();
  CHECK(check(e, order(Side::kBid, 1000, 3, 1)) == RiskReason::kOk);
  // Drawdown from the peak, while the day is still up.
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, 10'000, cancels) == OrderError::kOk);
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, 5'001, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kActive);
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, 5'000, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kReduceOnly);
  CHECK(e.try_update_pnl(Scope::kGlobal, 0, 2'000, cancels) == OrderError::kOk);
  CHECK(e.loss_state(Scope::kGlobal, 0) == TradingState::kHalted);
  e.reset_day();
  // Venue scope: only that venue's instruments.
  ScopeLimits v;
  v.daily_loss_reduce = 100;
  CHECK(e.try_set_venue_limits(1, v) == OrderError::kOk);
  CHECK(e.try_update_pnl(Scope::kVenue, 1, -100, cancels) == OrderError::kOk);
  CHECK(e.effective_state(2) == TradingState::kReduceOnly && e.effective_state(0) == TradingState::kActive);
  CHECK(check(e, order(Side::kBid, 1000, 1, 2)) == RiskReason::kVenueReduceOnly);
  CHECK(e.try_update_pnl(Scope::kInstrument, 0, 0, cancels) == OrderError::kBadScope);
}

void test_book_health() {
  RiskEngine e = make_engine();
  InstrumentLimits l;
  l.stale_after_ns = 1'000'000;
  l.collar_mid_bps = 100;
  CHECK(e.try_set_limits(1, l) == OrderError::kOk);
  CHECK(e.try_set_position(1, 4, 1000) == OrderError::kOk);
  MarketView m = market();
  CHECK(check(e, order(Side::kBid, 1000, 1, 1, kNow + 1'000'000), m) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1000, 1, 1, kNow + 1'000'001), m) == RiskReason::kBookStale);
  CHECK(check(e, order(Side::kAsk, 1000, 4, 1, kNow + 1'000'001), m) == RiskReason::kOk);  // Reduces.
  m = market(1002, 1001);
  m.crossed = true;
  CHECK(check(e, order(Side::kBid, 1000, 1, 1), m) == RiskReason::kBookCrossed);
  CHECK(check(e, order(Side::kAsk, 1000, 4, 1), m) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 1000, 5, 1), m) == RiskReason::kBookCrossed);  // Flips short.
  m = market();
  m.resyncing = true;
  CHECK(check(e, order(Side::kBid, 1000, 1, 1), m) == RiskReason::kBookResyncing);
  CHECK(check(e, order(Side::kAsk, 1000, 2, 1), m) == RiskReason::kOk);
}

void test_self_trade() {
  RiskEngine e = make_engine();
  CHECK(e.on_order_sent(1, order(Side::kAsk, 1005, 1, 1)) == OrderError::kOk);
  CHECK(e.on_order_sent(2, order(Side::kAsk, 1003, 1, 1)) == OrderError::kOk);
  CHECK(e.on_order_sent(3, order(Side::kBid, 995, 1, 1)) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1002, 1, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1003, 1, 1)) == RiskReason::kSelfTrade);
  CHECK(check(e, order(Side::kAsk, 996, 1, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kAsk, 995, 1, 1)) == RiskReason::kSelfTrade);
  CHECK(check(e, order(Side::kBid, 1004, 6, 0)) == RiskReason::kOk);  // Other instrument.
  // Cancelling the best own ask moves it to the next one.
  CHECK(e.on_cancel(2) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1004, 1, 1)) == RiskReason::kOk);
  CHECK(check(e, order(Side::kBid, 1005, 1, 1)) == RiskReason::kSelfTrade);
  CHECK(e.on_fill(1, 1005, 1) == OrderError::kOk);
  CHECK(check(e, order(Side::kBid, 1006, 1, 1)) == RiskReason::kOk);
  CHECK(e.on_cancel(3) == OrderError::kOk);
  CHECK(check(e, order(Side::kAsk, 990, 1, 1)) == RiskReason::kOk);
}

void test_overflow_is_refused() {
  RiskEngine e = make_engine();
  constexpr std::int64_t kBig = INT64_MAX / 2;
  // 2^62 x 2^62 money units is far beyond 2^100: refused, never wrapped.
  CHECK(check(e, order(Side::kBid, kBig, kBig, 1)) == RiskReason::kNotionalAboveMax);
  CHECK(e.on_order_sent(1, order(Side::kBid, kBig, kBig, 1)) == OrderError::kOverflow);
  CHECK(e.try_set_position(1, kBig, kBig) == OrderError::kOverflow);
  CHECK(e.try_set_position(1, INT64_MAX, 1) == OrderError::kOk);
  CHECK(e.on_order_sent(2, order(Side::kBid, 1, 1, 1)) == OrderError::kOk);
  CHECK(e.on_fill(2, 1, 1) == OrderError::kOverflow);  // Net would pass int64: nothing changes.
  CHECK(e.net_lots(1) == INT64_MAX && e.working_lots(1, Side::kBid) == 1);
  // Timestamps at the ends of int64 neither overflow the staleness test nor the bucket.
  InstrumentLimits l;
  l.stale_after_ns = 1;
  l.throttle = Throttle{1, 1};
  CHECK(e.try_set_limits(0, l) == OrderError::kOk);
  MarketView m = market();
  m.book_ts_local_ns = INT64_MIN;
  CHECK(check(e, order(Side::kBid, 5000, 2, 0, INT64_MAX), m) == RiskReason::kBookStale);
  m.book_ts_local_ns = INT64_MAX;
  CHECK(check(e, order(Side::kBid, 5000, 2, 0, INT64_MAX), m) == RiskReason::kOk);
}

// The check compares notionals, collars and the book's age in 64 bits when the operands provably fit and
// falls back to exact 128-bit arithmetic otherwise; on both sides of each bound it must decide the same.
Instrument make_steps(const std::string& symbol, const char* tick, const char* lot) {
  Instrument instrument;
  fastcore::common::InstrumentField failed{};
  CHECK(fastcore::common::try_make_instrument(symbol, "x", tick, lot, "0", "0", "1", false, instrument, failed) ==
        fastcore::common::DecimalError::kOk);
  return instrument;
}

void test_fast_path_boundaries() {
  constexpr std::int64_t k31 = std::int64_t{1} << 31;
  constexpr std::int64_t k32 = std::int64_t{1} << 32;
  constexpr std::int64_t k50 = std::int64_t{1} << 50;
  // Notional: px x qty just inside int64 (2^63 - 2^31) and just past it (2^63), with no limits, an order
  // limit, and a minimum; then 2^100 (the ceiling) and one lot more.
  {
    RiskEngine e = make_engine();
    CHECK(check(e, order(Side::kBid, k31, k32 - 1, 1)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, k31, k32, 1)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, k50, k50, 1)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, k50, k50 + 1, 1)) == RiskReason::kNotionalAboveMax);
    InstrumentLimits l;
    l.max_order_notional = INT64_MAX;
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, k31, k32 - 1, 1)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, k31, k32, 1)) == RiskReason::kNotionalAboveMax);
    l.max_order_notional = k31 * (k32 - 1);
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, k31, k32 - 1, 1)) == RiskReason::kOk);
    l.max_order_notional = k31 * (k32 - 1) - 1;
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, k31, k32 - 1, 1)) == RiskReason::kNotionalAboveMax);
    l.max_order_notional = 0;
    l.min_notional = INT64_MAX;
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, k31, k32 - 1, 1)) == RiskReason::kNotionalBelowMin);
    CHECK(check(e, order(Side::kBid, k31, k32, 1)) == RiskReason::kOk);
  }
  // A money factor beyond int64 (1e10 x 1e9 = 1e19) takes the 128-bit path for every order; 9e18 fits,
  // so 1 x 1 is 64-bit and 1 x 2 (1.8e19) is not.
  {
    const std::vector<Instrument> instruments{make_steps("BIG", "10000000000", "1000000000"),
                                              make_steps("FIT", "9000000000", "1000000000")};
    RiskEngine e;
    CHECK(e.try_init(instruments, 8) == OrderError::kOk);
    CHECK(e.scale() == 0);
    CHECK(check(e, order(Side::kBid, 1, 1, 0)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, 1, 1, 1)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, 1, 2, 1)) == RiskReason::kOk);
    InstrumentLimits l;
    l.max_order_notional = INT64_MAX;
    CHECK(e.try_set_limits(0, l) == OrderError::kOk);
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, 1, 1, 0)) == RiskReason::kNotionalAboveMax);
    CHECK(check(e, order(Side::kBid, 1, 1, 1)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, 1, 2, 1)) == RiskReason::kNotionalAboveMax);
    l.max_order_notional = 0;
    l.min_notional = INT64_MAX;
    CHECK(e.try_set_limits(0, l) == OrderError::kOk);
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, 1, 1, 0)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, 1, 1, 1)) == RiskReason::kNotionalBelowMin);
    CHECK(check(e, order(Side::kBid, 1, 2, 1)) == RiskReason::kOk);
  }
  // Collars: prices just below 2^40 (64-bit) and at 2^40 (128-bit), collars just below 2^22 bps and at it,
  // and a negative bid (128-bit). The allowed distance is worked out here by division instead of the
  // check's cross-multiplication.
  {
    RiskEngine e = make_engine();
    InstrumentLimits l;
    const auto mid_bound = [](std::int64_t mid, std::int64_t bps) {
      return static_cast<std::int64_t>(static_cast<__int128>(mid) * bps / 10'000);
    };
    for (const std::int64_t mid : {(std::int64_t{1} << 40) - 1, std::int64_t{1} << 40}) {
      for (const std::int64_t bps : {std::int64_t{1}, std::int64_t{100}}) {
        l.collar_mid_bps = bps;
        l.collar_last_bps = 0;
        CHECK(e.try_set_limits(1, l) == OrderError::kOk);
        const MarketView m = market(mid, mid);
        const std::int64_t d = mid_bound(mid, bps);
        CHECK(check(e, order(Side::kAsk, mid - d, 1, 1), m) == RiskReason::kOk);
        CHECK(check(e, order(Side::kAsk, mid - d - 1, 1, 1), m) == RiskReason::kOutsideCollarMid);
        CHECK(check(e, order(Side::kBid, mid + d, 1, 1), m) == RiskReason::kOk);
        CHECK(check(e, order(Side::kBid, mid + d + 1, 1, 1), m) == RiskReason::kOutsideCollarMid);
        l.collar_mid_bps = 0;
        l.collar_last_bps = bps;
        CHECK(e.try_set_limits(1, l) == OrderError::kOk);
        MarketView last = market();
        last.last_trade_px_ticks = mid;
        CHECK(check(e, order(Side::kAsk, mid - d, 1, 1), last) == RiskReason::kOk);
        CHECK(check(e, order(Side::kAsk, mid - d - 1, 1, 1), last) == RiskReason::kOutsideCollarLast);
        CHECK(check(e, order(Side::kBid, mid + d, 1, 1), last) == RiskReason::kOk);
        CHECK(check(e, order(Side::kBid, mid + d + 1, 1, 1), last) == RiskReason::kOutsideCollarLast);
      }
    }
    for (const std::int64_t bps : {(std::int64_t{1} << 22) - 1, std::int64_t{1} << 22}) {
      l.collar_mid_bps = bps;
      l.collar_last_bps = 0;
      CHECK(e.try_set_limits(1, l) == OrderError::kOk);
      const std::int64_t d = mid_bound(1000, bps);
      CHECK(check(e, order(Side::kBid, 1000 + d, 1, 1), market(1000, 1000)) == RiskReason::kOk);
      CHECK(check(e, order(Side::kBid, 1000 + d + 1, 1, 1), market(1000, 1000)) == RiskReason::kOutsideCollarMid);
      // Largest operands of the 64-bit path: no product may wrap (a wrapped one would refuse this order).
      const std::int64_t top = (std::int64_t{1} << 40) - 1;
      CHECK(check(e, order(Side::kBid, 1, 1, 1), market(top, top)) == RiskReason::kOk);
    }
    l.collar_mid_bps = 100;
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    CHECK(check(e, order(Side::kBid, 1010, 1, 1), market(-1, 2001)) == RiskReason::kOk);
    CHECK(check(e, order(Side::kBid, 1011, 1, 1), market(-1, 2001)) == RiskReason::kOutsideCollarMid);
  }
  // Book age: ts - book_ts exactly INT64_MAX (fits) is not beyond a threshold of INT64_MAX; one more (does
  // not fit) is; a difference below INT64_MIN never is.
  {
    RiskEngine e = make_engine();
    InstrumentLimits l;
    l.stale_after_ns = INT64_MAX;
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    MarketView m = market();
    m.book_ts_local_ns = 0;
    CHECK(check(e, order(Side::kBid, 1000, 1, 1, INT64_MAX), m) == RiskReason::kOk);
    m.book_ts_local_ns = -1;
    CHECK(check(e, order(Side::kBid, 1000, 1, 1, INT64_MAX), m) == RiskReason::kBookStale);
    m.book_ts_local_ns = 1;
    CHECK(check(e, order(Side::kBid, 1000, 1, 1, INT64_MIN), m) == RiskReason::kOk);
    l.stale_after_ns = INT64_MAX - 1;
    CHECK(e.try_set_limits(1, l) == OrderError::kOk);
    m.book_ts_local_ns = 0;
    CHECK(check(e, order(Side::kBid, 1000, 1, 1, INT64_MAX), m) == RiskReason::kBookStale);
  }
}

void test_market_view_of_a_book() {
  fastcore::book::Book book;
  MarketView empty = market_view(book, std::nullopt, false);
  CHECK(!empty.has_bid && !empty.has_ask && !empty.has_last_trade && !empty.crossed);
  CHECK(book.try_set_level(Side::kBid, 999, 5) == fastcore::book::ApplyError::kOk);
  CHECK(book.try_set_level(Side::kAsk, 1001, 5) == fastcore::book::ApplyError::kOk);
  book.set_timestamps(kNow - 5, kNow);
  const MarketView view = market_view(book, 1000, true);
  CHECK(view.has_bid && view.bid_px_ticks == 999 && view.has_ask && view.ask_px_ticks == 1001);
  CHECK(view.has_last_trade && view.last_trade_px_ticks == 1000 && view.book_ts_local_ns == kNow);
  CHECK(view.resyncing && !view.crossed);
  CHECK(book.try_set_level(Side::kBid, 1001, 5) == fastcore::book::ApplyError::kOk);
  CHECK(market_view(book, std::nullopt, false).crossed);
  RiskEngine e = make_engine();
  CHECK(check(e, order(Side::kBid, 1000, 1, 1), market_view(book, 1000, false)) == RiskReason::kBookCrossed);
}

void test_init_errors() {
  RiskEngine e;
  const std::vector<Instrument> none;
  CHECK(e.try_init(none, 4) == OrderError::kBadLimits);
  const std::vector<Instrument> one{make("A", "x")};
  CHECK(e.try_init(one, 0) == OrderError::kBadLimits);
  CHECK(e.try_init(one, RiskEngine::kMaxOrderCapacity + 1) == OrderError::kBadLimits);
  CHECK(e.try_init(one, 1) == OrderError::kOk);
  CHECK(e.venues().size() == 1 && e.venue_of(0) == 0);
}

}  // namespace

int main() {
  test_describe();
  test_size_and_price();
  test_collars();
  test_position_and_in_flight();
  test_open_orders_and_table();
  test_order_index_churn();
  test_gross_notional();
  test_kill_switch();
  test_throttles();
  test_loss_limits();
  test_book_health();
  test_self_trade();
  test_overflow_is_refused();
  test_fast_path_boundaries();
  test_market_view_of_a_book();
  test_init_errors();
  return report("test_risk");
}
