// The simulated venue's batch path (ExchangeConfig::batch_runs, runs of events through
// Book::try_apply_batch) against the one-at-a-time reference path: two venues with the same
// configuration, one of each, get the same events in the same chunks and the same intents between
// chunks (resting limit orders, crossing limits, IOC, market, post-only, reduce-only, cancels of known
// and unknown orders, replaces); every report, counter, clock, histogram and book must be identical,
// byte for byte. Also refusals in the middle of a run, events without an exchange time, and the
// engine-driven backtest. (tests/test_backtest_fast_path.py does the same on the recordings.)
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "book_support.hpp"
#include "check.hpp"
#include "synthetic_support.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/sim/backtest.hpp"
#include "fastcore/sim/engine_strategy.hpp"
#include "fastcore/sim/exchange.hpp"

namespace {

using book_support::same_book;
using fastcore::common::Event;
using fastcore::common::EventKind;
using fastcore::common::Side;
using fastcore::engine::ExecutionReport;
using fastcore::engine::IntentKind;
using fastcore::engine::OrderIntent;
using fastcore::engine::OrderType;
using fastcore::engine::TimeInForce;
using fastcore::sim::ExchangeConfig;
using fastcore::sim::ExchangeError;
using fastcore::sim::LatencyModel;
using fastcore::sim::QueueModel;
using fastcore::sim::Rng;
using fastcore::sim::SimulatedExchange;

constexpr std::int64_t kEnd = std::numeric_limits<std::int64_t>::max();

bool same_histogram(const fastcore::common::Histogram& a, const fastcore::common::Histogram& b) {
  return a.count() == b.count() && a.min() == b.min() && a.max() == b.max() && a.mean() == b.mean() &&
         a.counts() == b.counts();
}

// Everything observable of the two venues is equal; the reports due by `until` are drained from both
// and compared byte for byte. Returns how many reports there were.
std::size_t compare(SimulatedExchange& fast, SimulatedExchange& slow, std::int64_t until) {
  std::vector<ExecutionReport> a(512);
  std::vector<ExecutionReport> b(512);
  std::size_t total = 0;
  for (;;) {
    const std::size_t na = fast.drain_reports(a, until);
    const std::size_t nb = slow.drain_reports(b, until);
    CHECK_EQ(na, nb);
    if (na != nb) return total;
    CHECK(std::memcmp(a.data(), b.data(), na * sizeof(ExecutionReport)) == 0);
    total += na;
    if (na < a.size()) break;
  }
  const auto& sa = fast.stats();
  const auto& sb = slow.stats();
  CHECK(sa.events == sb.events && sa.intents == sb.intents && sa.rejects == sb.rejects && sa.fills == sb.fills &&
        sa.maker_fills == sb.maker_fills && sa.taker_fills == sb.taker_fills && sa.late_orders == sb.late_orders &&
        sa.fee_overflows == sb.fee_overflows);
  CHECK_EQ(fast.now_ns(), slow.now_ns());
  CHECK_EQ(fast.open_orders(), slow.open_orders());
  CHECK_EQ(fast.pending_intents(), slow.pending_intents());
  CHECK_EQ(fast.pending_reports(), slow.pending_reports());
  CHECK(fast.book_error() == slow.book_error());
  CHECK(same_histogram(fast.feed_latency(), slow.feed_latency()));
  CHECK(same_histogram(fast.order_latency(), slow.order_latency()));
  CHECK(same_histogram(fast.response_latency(), slow.response_latency()));
  for (std::uint32_t id = 0; id < fast.instruments(); ++id) {
    CHECK(same_book(fast.book(id), slow.book(id)));
    CHECK_EQ(fast.position_lots(id), slow.position_lots(id));
  }
  return total;
}

// A seeded order flow that makes the venue go through every state: no orders at all (the batch path),
// intents on their way (runs cut at their arrival), resting orders (the per-event path), fills of
// every kind, and cancels that empty the instrument again.
class OrderFlow {
 public:
  explicit OrderFlow(std::uint64_t seed, std::uint32_t instruments) : rng_(seed), instruments_(instruments) {}

  /// Intents decided at `ts_ns`, priced off the venue's book.
  std::vector<OrderIntent> next(const SimulatedExchange& venue, std::int64_t ts_ns) {
    std::vector<OrderIntent> out;
    const std::uint64_t roll = rng_.below(100);
    if (roll < 45) return out;  // quiet: the venue runs with what rests, often nothing
    const auto id = static_cast<std::uint32_t>(rng_.below(instruments_));
    const auto bid = venue.book(id).best(Side::kBid);
    const auto ask = venue.book(id).best(Side::kAsk);
    if (!bid || !ask) return out;
    OrderIntent intent{};
    intent.ts_ns = ts_ns;
    intent.instrument_id = id;
    intent.side = rng_.below(2) == 0 ? Side::kBid : Side::kAsk;
    const std::int64_t touch = intent.side == Side::kBid ? bid->px_ticks : ask->px_ticks;
    const std::int64_t away = intent.side == Side::kBid ? -1 : 1;
    intent.qty_lots = 1 + static_cast<std::int64_t>(rng_.below(300));
    intent.kind = IntentKind::kNew;
    intent.order_id = next_id_++;
    if (roll < 65) {  // a resting limit at or behind the touch (joins a queue)
      intent.px_ticks = touch + away * static_cast<std::int64_t>(rng_.below(4));
      intent.tif = rng_.below(4) == 0 ? TimeInForce::kPostOnly : TimeInForce::kGtc;
      live_.push_back(intent.order_id);
    } else if (roll < 72) {  // a limit through the touch: takes, maybe rests the rest
      intent.px_ticks = (intent.side == Side::kBid ? ask->px_ticks : bid->px_ticks) - away * 2;
      intent.tif = static_cast<TimeInForce>(rng_.below(3));
      live_.push_back(intent.order_id);
    } else if (roll < 78) {
      intent.px_ticks = (intent.side == Side::kBid ? ask->px_ticks : bid->px_ticks) - away;
      intent.tif = TimeInForce::kIoc;
      intent.reduce_only = static_cast<std::uint8_t>(rng_.below(3) == 0);
    } else if (roll < 82) {
      intent.type = OrderType::kMarket;
      intent.tif = TimeInForce::kIoc;
    } else if (roll < 88) {  // replace: a new price (back of the queue) or a smaller size (keeps it)
      intent.kind = IntentKind::kReplace;
      intent.order_id = live_.empty() ? 999'999 : live_[rng_.below(live_.size())];
      intent.px_ticks = touch + away * static_cast<std::int64_t>(rng_.below(3));
      intent.tif = TimeInForce::kGtc;
    } else if (roll < 97) {  // cancel everything we know of: the instrument empties again
      for (const std::uint64_t order_id : live_) out.push_back(cancel(order_id, ts_ns, id));
      live_.clear();
      return out;
    } else {  // cancel of an order that never existed
      out.push_back(cancel(7'777'777, ts_ns, id));
      return out;
    }
    out.push_back(intent);
    return out;
  }

 private:
  static OrderIntent cancel(std::uint64_t order_id, std::int64_t ts_ns, std::uint32_t id) {
    OrderIntent intent{};
    intent.ts_ns = ts_ns;
    intent.order_id = order_id;
    intent.instrument_id = id;
    intent.kind = IntentKind::kCancel;
    return intent;
  }

  Rng rng_;
  std::uint32_t instruments_;
  std::uint64_t next_id_ = 1;
  std::vector<std::uint64_t> live_;
};

// Runs `events` through a batch venue and a reference venue in chunks of seeded sizes, with the same
// intents between chunks, and compares everything after every chunk. Returns the reports seen.
std::size_t differential(const std::vector<Event>& events, ExchangeConfig config, std::uint64_t seed) {
  config.batch_runs = true;
  SimulatedExchange fast(config);
  config.batch_runs = false;
  SimulatedExchange slow(config);
  OrderFlow flow(seed, static_cast<std::uint32_t>(config.instruments.size()));
  Rng chunks(seed ^ 0xC0FFEEULL);
  std::size_t reports = 0;
  std::size_t i = 0;
  while (i < events.size()) {
    const std::size_t n = std::min<std::size_t>(events.size() - i, 1 + chunks.below(160));
    const std::span<const Event> chunk(events.data() + i, n);
    ExchangeError ea = ExchangeError::kOk;
    ExchangeError eb = ExchangeError::kOk;
    const std::size_t da = fast.on_events(chunk, ea);
    const std::size_t db = slow.on_events(chunk, eb);
    CHECK_EQ(da, db);
    CHECK(ea == eb);
    CHECK(ea == ExchangeError::kOk);
    if (da != n || db != n) return reports;
    i += n;
    const std::int64_t now = chunk.back().ts_local_ns;
    reports += compare(fast, slow, now);
    for (const OrderIntent& intent : flow.next(fast, now)) {
      fast.submit(intent);
      slow.submit(intent);
    }
  }
  fast.advance_to(kEnd);
  slow.advance_to(kEnd);
  reports += compare(fast, slow, kEnd);
  // Both paths were taken: runs in one call, and events one at a time (orders resting or arriving).
  CHECK(fast.stats().batched_events > fast.stats().events / 10);
  CHECK(fast.stats().batched_events < fast.stats().events);
  CHECK_EQ(slow.stats().batched_events, 0U);
  std::printf("differential: %zu events (%llu in runs), %zu reports, %llu fills\n", events.size(),
              static_cast<unsigned long long>(fast.stats().batched_events), reports,
              static_cast<unsigned long long>(fast.stats().fills));
  return reports;
}

ExchangeConfig base_config(std::size_t instruments) {
  ExchangeConfig config;
  config.instruments.assign(instruments, {2 * 10'000, 5 * 10'000, 1});
  config.order_latency.lo_ns = 300'000;
  config.response_latency.lo_ns = 500'000;
  return config;
}

void test_synthetic_one_instrument() {
  const auto events = synthetic_support::events(1, 120'000, 3);
  const std::size_t reports = differential(events, base_config(1), 41);
  CHECK(reports > 1'000);  // the flow really traded: acks, fills, cancels, rejects
}

void test_synthetic_three_instruments_probabilistic() {
  const auto events = synthetic_support::events(3, 150'000, 5);
  ExchangeConfig config = base_config(3);
  config.queue_model = QueueModel::kProbabilistic;
  config.queue_power = 3;
  config.order_latency = LatencyModel{LatencyModel::Kind::kUniform, 50'000, 2'000'000, {}};
  config.response_latency = LatencyModel{LatencyModel::Kind::kSamples, 0, 0, {10'000, 400'000, 3'000'000}};
  config.seed = 99;
  CHECK(differential(events, config, 43) > 1'000);
}

// A clock offset and events with no exchange time (their local time is the venue's time) or with a
// local time before the shifted exchange time (no feed latency sample).
void test_clock_offset_and_missing_exchange_times() {
  auto events = synthetic_support::events(2, 60'000, 8);
  Rng rng(17);
  for (Event& event : events) {
    const std::uint64_t roll = rng.below(10);
    if (roll == 0) event.ts_exchange_ns = 0;
    if (roll == 1) event.ts_local_ns -= 5'000;
  }
  ExchangeConfig config = base_config(2);
  config.clock_offset_ns = -1'000;
  CHECK(differential(events, config, 47) > 100);
}

// Messages of many events with the same times (depth frames of 1-70 levels between single-event
// messages, like a recording's): the batch's clock pass skips such events eight at a time and must
// still note every message start, at any position in a group of eight, with the same clock and feed
// latency samples as one event at a time.
void test_long_messages() {
  auto events = synthetic_support::events(2, 80'000, 13);
  Rng rng(23);
  std::size_t i = 0;
  while (i < events.size()) {
    const std::size_t len = 1 + rng.below(rng.below(2) == 0 ? 3 : 70);
    for (std::size_t k = i + 1; k < std::min(i + len, events.size()); ++k) {
      events[k].ts_local_ns = events[i].ts_local_ns;
      events[k].ts_exchange_ns = events[i].ts_exchange_ns;
    }
    i += len;
  }
  ExchangeConfig config = base_config(2);
  config.clock_offset_ns = -700;
  CHECK(differential(events, config, 53) > 100);
}

// A refused event in the middle of a run (negative quantity, an unknown instrument, an unknown kind, a
// level with no valid side), and a clear: both paths stop at the same event with the same error and
// leave the same state; also while an order rests far from the touch (the run's scan lets the event
// through by its price, the batch refuses it where apply_one() would).
void test_refusals_inside_a_run() {
  for (const int variant : {0, 1, 2, 3}) {
    auto events = synthetic_support::events(1, 5'000, 11);
    Event& bad = events[3'000];
    if (variant == 0) bad.qty_lots = -1;
    if (variant == 1) bad.instrument_id = 5;
    if (variant == 2) bad.kind = static_cast<EventKind>(9);
    if (variant == 3) {
      bad.kind = EventKind::kDelta;
      bad.side = static_cast<Side>(2);
    }
    events[2'000].kind = EventKind::kClear;  // a clear inside a run is applied, not refused
    for (const int with_order : {0, 1, 2}) {
      ExchangeConfig config = base_config(1);
      config.batch_runs = true;
      SimulatedExchange fast(config);
      config.batch_runs = false;
      SimulatedExchange slow(config);
      ExchangeError ea = ExchangeError::kOk;
      ExchangeError eb = ExchangeError::kOk;
      const std::span<const Event> all(events);
      CHECK_EQ(fast.on_events(all.first(1'000), ea), 1'000U);
      CHECK_EQ(slow.on_events(all.first(1'000), eb), 1'000U);
      if (with_order == 1) {  // a cancel on its way: the run is cut at its arrival, before the bad event
        OrderIntent intent{};
        intent.ts_ns = events[999].ts_local_ns;
        intent.order_id = 5;
        intent.kind = IntentKind::kCancel;
        fast.submit(intent);
        slow.submit(intent);
      }
      if (with_order == 2) {  // a bid resting at 1 tick: every later run is scanned against it
        OrderIntent intent{};
        intent.ts_ns = events[999].ts_local_ns;
        intent.order_id = 6;
        intent.kind = IntentKind::kNew;
        intent.side = Side::kBid;
        intent.px_ticks = 1;
        intent.qty_lots = 1;
        intent.tif = TimeInForce::kGtc;
        fast.submit(intent);
        slow.submit(intent);
      }
      const std::size_t da = fast.on_events(all.subspan(1'000), ea);
      const std::size_t db = slow.on_events(all.subspan(1'000), eb);
      CHECK_EQ(da, 2'000U);
      CHECK_EQ(db, 2'000U);
      CHECK(ea == (variant == 1 ? ExchangeError::kUnknownInstrument : ExchangeError::kBookRefused));
      CHECK(ea == eb);
      CHECK(fast.book_error() == slow.book_error());
      if (variant == 3) CHECK(fast.book_error() == fastcore::book::ApplyError::kBadSide);
      if (with_order == 2) CHECK_EQ(fast.open_orders(), 1U);
      compare(fast, slow, kEnd);
    }
  }
}

// An intent arriving exactly at an event's time meets the book with that event applied (arrivals are
// matched before events strictly later than them): the run must not stop early or late around it.
void test_arrival_at_an_event_time() {
  for (const bool batch : {true, false}) {
    ExchangeConfig config = base_config(1);
    config.order_latency.lo_ns = 1'000;
    config.batch_runs = batch;
    SimulatedExchange venue(config);
    std::vector<Event> events;
    const auto delta = [&](Side side, std::int64_t px, std::int64_t qty, std::int64_t ts) {
      Event e{};
      e.ts_exchange_ns = ts;
      e.ts_local_ns = ts + 10;
      e.px_ticks = px;
      e.qty_lots = qty;
      e.kind = EventKind::kDelta;
      e.side = side;
      events.push_back(e);
    };
    delta(Side::kBid, 99, 5, 100);
    delta(Side::kAsk, 101, 5, 100);
    ExchangeError error = ExchangeError::kOk;
    CHECK_EQ(venue.on_events(events, error), 2U);
    events.clear();
    OrderIntent ioc{};
    ioc.ts_ns = 1'000;  // arrives at 2,000
    ioc.order_id = 1;
    ioc.kind = IntentKind::kNew;
    ioc.px_ticks = 101;
    ioc.qty_lots = 3;
    ioc.side = Side::kBid;
    ioc.tif = TimeInForce::kIoc;
    venue.submit(ioc);
    delta(Side::kBid, 98, 1, 1'500);
    delta(Side::kAsk, 101, 0, 2'000);  // at the arrival: applied first, the IOC finds nothing at 101
    delta(Side::kAsk, 101, 9, 2'000);  // the same message puts it back: still before the arrival
    delta(Side::kAsk, 101, 0, 2'001);  // after the arrival: the IOC is matched before this one
    delta(Side::kAsk, 102, 4, 2'002);
    CHECK_EQ(venue.on_events(events, error), 5U);
    std::vector<ExecutionReport> out(8);
    const std::size_t n = venue.drain_reports(out, kEnd);
    CHECK_EQ(n, 1U);
    CHECK(out[0].kind == fastcore::engine::ReportKind::kFill && out[0].qty_lots == 3 && out[0].px_ticks == 101 &&
          out[0].ts_exchange_ns == 2'000);
    CHECK_EQ(venue.now_ns(), 2'002);
    CHECK_EQ(venue.stats().batched_events, batch ? 6U : 0U);  // all but the event after the arrival
  }
}

// The engine-driven backtest (what `rentrade backtest` and the built-in-strategy benchmark run): same
// trips, fills and engine counters on both paths.
void test_engine_backtest_same_trips() {
  const auto events = synthetic_support::events(1, 300'000, 21);
  std::vector<fastcore::sim::RoundTrip> trips[2];
  std::uint64_t fills[2] = {0, 0};
  std::uint64_t intents[2] = {0, 0};
  std::size_t reports[2] = {0, 0};
  for (const bool batch : {true, false}) {
    const fastcore::common::Instrument instrument = [] {
      fastcore::common::Instrument out;
      fastcore::common::InstrumentField failed{};
      (void)fastcore::common::try_make_instrument("SYNTH-PERP", "synthetic", "0.1", "0.001", "0", "0", "1", false,
                                                  out, failed);
      return out;
    }();
    fastcore::engine::BracketStrategy bracket;
    fastcore::engine::BracketConfig bc;
    bc.fixed_qty_lots = 10;
    bc.stop_distance = 10;
    CHECK(bracket.try_configure(bc) == fastcore::engine::BracketError::kOk);
    fastcore::engine::Engine engine;
    fastcore::engine::EngineConfig ec;
    ec.timing = false;
    CHECK(engine.try_init(std::span<const fastcore::common::Instrument>(&instrument, 1), ec, &bracket) ==
          fastcore::engine::EngineError::kOk);
    (void)engine.composite().try_set_weight(fastcore::signal::Feature::kImbalance, 1.0);
    (void)engine.composite().try_set_threshold(0.5);
    ExchangeConfig config = base_config(1);
    config.instruments[0].notional_factor = static_cast<std::int64_t>(instrument.notional_factor());
    config.order_latency.lo_ns = 1'000'000;
    config.response_latency.lo_ns = 1'000'000;
    config.batch_runs = batch;
    SimulatedExchange venue(config);
    fastcore::sim::EngineStrategy strategy(engine);
    fastcore::sim::Backtest loop(venue, strategy, fastcore::sim::BacktestConfig{});
    std::size_t applied = 0;
    CHECK(loop.try_run(events, applied) == ExchangeError::kOk);
    loop.finish();
    CHECK_EQ(applied, events.size());
    const int k = batch ? 0 : 1;
    trips[k] = loop.ledger().trips();
    fills[k] = venue.stats().fills;
    intents[k] = engine.counters().intents;
    reports[k] = loop.stats().reports;
  }
  CHECK(trips[0].size() > 10);
  CHECK(trips[0].size() == trips[1].size() &&
        std::memcmp(trips[0].data(), trips[1].data(), trips[0].size() * sizeof(fastcore::sim::RoundTrip)) == 0);
  CHECK_EQ(fills[0], fills[1]);
  CHECK_EQ(intents[0], intents[1]);
  CHECK_EQ(reports[0], reports[1]);
}

}  // namespace

int main() {
  test_synthetic_one_instrument();
  test_synthetic_three_instruments_probabilistic();
  test_clock_offset_and_missing_exchange_times();
  test_long_messages();
  test_refusals_inside_a_run();
  test_arrival_at_an_event_time();
  test_engine_backtest_same_trips();
  return report("test_sim_fast_path");
}
