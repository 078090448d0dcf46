#include "fastcore/sim/exchange.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

namespace fastcore::sim {
namespace {

using common::Event;
using common::EventKind;
using common::Side;
using engine::FillLiquidity;
using engine::IntentKind;
using engine::OrderType;
using engine::ReportKind;
using engine::ReportReason;
using engine::TimeInForce;

constexpr std::int64_t kMaxFeeBpsE4 = 100'000'000;  // 100 % of the notional
constexpr std::int64_t kBpsE4Denominator = 100'000'000;  // bps x 10^4 -> fraction
constexpr std::uint32_t kMaxOpenOrders = 1U << 24;
constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

bool latency_ok(const LatencyModel& model) noexcept {
  switch (model.kind) {
    case LatencyModel::Kind::kConstant:
      return model.lo_ns >= 0;
    case LatencyModel::Kind::kUniform:
      return model.lo_ns >= 0 && model.lo_ns <= model.hi_ns;
    case LatencyModel::Kind::kSamples:
      return !model.samples.empty() &&
             std::all_of(model.samples.begin(), model.samples.end(), [](std::int64_t v) { return v >= 0; });
  }
  return false;
}

Side opposite(Side side) noexcept { return side == Side::kBid ? Side::kAsk : Side::kBid; }

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  return __builtin_add_overflow(a, b, &out) ? kMaxTime : out;
}

double power_of(std::int64_t x, std::uint32_t power) noexcept {
  const double base = static_cast<double>(x);
  double result = 1.0;
  for (std::uint32_t i = 0; i < power; ++i) result *= base;  // exact IEEE steps: same bits everywhere
  return result;
}

// An event's time at the venue: its exchange time shifted by the clock offset, or its local time when
// it has none.
[[gnu::always_inline]] inline std::int64_t venue_time(const Event& event, std::int64_t clock_offset_ns) noexcept {
  return event.ts_exchange_ns != 0 ? saturating_add(event.ts_exchange_ns, clock_offset_ns) : event.ts_local_ns;
}

// The clock and the feed latency after an applied event at venue time t, on state passed by reference:
// note_applied() passes the members, note_run() locals that stay in registers for a whole run.
[[gnu::always_inline]] inline void advance_feed(const Event& event, std::int64_t t, std::int64_t& clock,
                                                std::int64_t& feed_local, std::int64_t& feed_exchange,
                                                common::Histogram& feed_latency) noexcept {
  if (t > clock) clock = t;
  // Once per message: recording every level of a deep frame cost a histogram write per event (a
  // cache miss in a 30 KB table) and weighted the percentiles by frame size.
  if (event.ts_exchange_ns != 0 && event.ts_local_ns >= t &&
      (event.ts_local_ns != feed_local || event.ts_exchange_ns != feed_exchange)) {
    feed_local = event.ts_local_ns;
    feed_exchange = event.ts_exchange_ns;
    feed_latency.record(static_cast<std::uint64_t>(event.ts_local_ns - t));
  }
}

}  // namespace

const char* describe(ExchangeError error) noexcept {
  switch (error) {
    case ExchangeError::kOk:
      return "ok";
    case ExchangeError::kNoInstruments:
      return "the simulated exchange needs at least one instrument";
    case ExchangeError::kBadLatency:
      return "latency must be >= 0 ns (uniform: lo <= hi; samples: at least one)";
    case ExchangeError::kBadFee:
      return "fees must be within +-100 % of the notional and the notional factor >= 1";
    case ExchangeError::kBadQueuePower:
      return "queue_power must be between 1 and 8";
    case ExchangeError::kBadCapacity:
      return "max_open_orders must be between 1 and 2^24 and max_levels_per_side >= 1";
    case ExchangeError::kUnknownInstrument:
      return "event for an instrument the simulated exchange does not have";
    case ExchangeError::kBookRefused:
      return "the venue's book refused the event";
  }
  return "unknown exchange error";
}

std::int64_t LatencyModel::min_ns() const noexcept {
  switch (kind) {
    case Kind::kConstant:
    case Kind::kUniform:
      return lo_ns;
    case Kind::kSamples:
      return samples.empty() ? 0 : *std::min_element(samples.begin(), samples.end());
  }
  return 0;
}

ExchangeError validate(const ExchangeConfig& config) noexcept {
  if (config.instruments.empty()) return ExchangeError::kNoInstruments;
  if (!latency_ok(config.order_latency) || !latency_ok(config.response_latency)) return ExchangeError::kBadLatency;
  for (const InstrumentSpec& spec : config.instruments) {
    if (spec.maker_fee_bps_e4 < -kMaxFeeBpsE4 || spec.maker_fee_bps_e4 > kMaxFeeBpsE4 ||
        spec.taker_fee_bps_e4 < -kMaxFeeBpsE4 || spec.taker_fee_bps_e4 > kMaxFeeBpsE4 || spec.notional_factor < 1) {
      return ExchangeError::kBadFee;
    }
  }
  if (config.queue_power < 1 || config.queue_power > 8) return ExchangeError::kBadQueuePower;
  if (config.max_open_orders < 1 || config.max_open_orders > kMaxOpenOrders || config.max_levels_per_side == 0) {
    return ExchangeError::kBadCapacity;
  }
  return ExchangeError::kOk;
}

SimulatedExchange::SimulatedExchange(const ExchangeConfig& config)
    : config_(config),
      books_(config.instruments.size(), book::Book(config.max_levels_per_side)),
      head_(config.instruments.size(), kNone),
      tail_(config.instruments.size(), kNone),
      position_lots_(config.instruments.size(), 0),
      orders_(config.max_open_orders),
      // Distinct streams per use, so changing the order latency model does not move the queue draws.
      order_rng_(config.seed ^ 0x6F72646572000000ULL),
      response_rng_(config.seed ^ 0x7265706F72740000ULL),
      queue_rng_(config.seed ^ 0x7175657565000000ULL) {
  free_.reserve(config.max_open_orders);
  for (std::uint32_t slot = config.max_open_orders; slot > 0; --slot) free_.push_back(slot - 1);
  const std::uint64_t cells = std::bit_ceil(std::uint64_t{config.max_open_orders} * 2);
  index_keys_.assign(cells, 0);
  index_slots_.assign(cells, kNone);
  index_mask_ = cells - 1;
  inbound_.reserve(1024);
  reports_.reserve(4096);
}

std::int64_t SimulatedExchange::draw(const LatencyModel& model, Rng& rng) noexcept {
  switch (model.kind) {
    case LatencyModel::Kind::kConstant:
      return model.lo_ns;
    case LatencyModel::Kind::kUniform:
      return model.lo_ns +
             static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(model.hi_ns - model.lo_ns) + 1));
    case LatencyModel::Kind::kSamples:
      return model.samples[rng.below(model.samples.size())];
  }
  return 0;
}

inline std::int64_t SimulatedExchange::event_time(const Event& event) const noexcept {
  return venue_time(event, config_.clock_offset_ns);
}

inline void SimulatedExchange::note_applied(const Event& event, std::int64_t t) noexcept {
  advance_feed(event, t, clock_ns_, feed_local_ns_, feed_exchange_ns_, feed_latency_);
}

// Inlined into both entry points: the batch loop then has no call per event.
inline ExchangeError SimulatedExchange::apply_one(const Event& event) noexcept {
  if (event.instrument_id >= books_.size()) [[unlikely]] return ExchangeError::kUnknownInstrument;
  const std::int64_t t = event_time(event);
  // Intents that arrived strictly before this event see the book without it.
  while (inbound_head_ < inbound_.size() && inbound_[inbound_head_].arrival_ns < t) {
    const Inbound inbound = inbound_[inbound_head_++];
    process_arrival(inbound);
  }
  if (inbound_head_ == inbound_.size() && inbound_head_ != 0) {
    inbound_.clear();  // keeps the capacity: no allocation in steady state
    inbound_head_ = 0;
  }
  book::Book& book = books_[event.instrument_id];
  const bool has_orders = head_[event.instrument_id] != kNone;
  std::int64_t old_qty = 0;
  const bool level_event = static_cast<unsigned>(event.kind) - 2U < 2U;  // kSnapshotLevel or kDelta
  if (has_orders && level_event && static_cast<std::uint8_t>(event.side) < 2) {
    old_qty = book.side(event.side).qty_at(event.px_ticks);
  }
  const book::ApplyError error = book.try_apply(event);
  if (error != book::ApplyError::kOk) [[unlikely]] {
    book_error_ = error;
    return ExchangeError::kBookRefused;
  }
  note_applied(event, t);
  ++stats_.events;
  if (has_orders) on_market(event.instrument_id, event, old_qty);
  return ExchangeError::kOk;
}

// The prices of an instrument's resting orders that events are checked against: an event that
// passes passes_orders() changes nothing on_market() looks at (see apply_run()).
struct SimulatedExchange::OrderBounds {
  std::int64_t bid_lo = kMaxTime;  // lowest and highest price of our resting bids
  std::int64_t bid_hi = std::numeric_limits<std::int64_t>::min();
  std::int64_t ask_lo = kMaxTime;  // of our resting asks
  std::int64_t ask_hi = std::numeric_limits<std::int64_t>::min();
};

SimulatedExchange::OrderBounds SimulatedExchange::order_bounds(std::uint32_t instrument_id) const noexcept {
  OrderBounds bounds;
  for (std::uint32_t slot = head_[instrument_id]; slot != kNone; slot = orders_[slot].next) {
    const Resting& order = orders_[slot];
    if (order.side == Side::kBid) {
      bounds.bid_lo = std::min(bounds.bid_lo, order.px_ticks);
      bounds.bid_hi = std::max(bounds.bid_hi, order.px_ticks);
    } else {
      bounds.ask_lo = std::min(bounds.ask_lo, order.px_ticks);
      bounds.ask_hi = std::max(bounds.ask_hi, order.px_ticks);
    }
  }
  return bounds;
}

// Whether on_market() would leave every resting order as it is for this event, case by case:
//   - a level at one of our prices on our side moves our queue (on_level_change), so the price must lie
//     outside [lo, hi] of that side's orders;
//   - a non-empty level on the other side at or through one of our prices fills it, so a bid level
//     must be below all our asks and an ask level above all our bids (removals, qty 0, fill nothing);
//   - a trade fills our orders on its passive side at or through its price: a sell (aggressor ask)
//     must print above all our bids, a buy below all our asks;
//   - anything else (clears, BBO quotes, trades with no valid side) is ignored by on_market().
// Invalid level events (bad side) fail the test and go one at a time; the book refuses them there.
[[gnu::always_inline]] inline bool passes_orders(const Event& event, std::int64_t bid_lo, std::int64_t bid_hi,
                                                 std::int64_t ask_lo, std::int64_t ask_hi) noexcept {
  const auto kind = static_cast<unsigned>(event.kind);
  const std::int64_t px = event.px_ticks;
  if (kind - 2U < 2U) {  // kSnapshotLevel or kDelta
    if (event.side == Side::kBid) return (px < bid_lo || px > bid_hi) && (event.qty_lots == 0 || px < ask_lo);
    if (event.side == Side::kAsk) return (px < ask_lo || px > ask_hi) && (event.qty_lots == 0 || px > bid_hi);
    return false;
  }
  if (event.kind == EventKind::kTrade) {
    if (event.side == Side::kAsk) return px > bid_hi;  // passive bids
    if (event.side == Side::kBid) return px < ask_lo;  // passive asks
  }
  return true;
}

// How many of the first `count` events (at most) apply_run() may batch: the events before the first
// one later than the next intent's arrival (kDue: an intent is on its way; apply_one() would match it
// before that event; arrivals are non-decreasing, so the first bounds all) or touching a resting order
// (passes_orders()). Ending a run early is always safe (the next event goes one at a time), so the
// tests may be stricter than needed, never looser. Events of another instrument need no test here:
// the batch stops at the first of them.
template <bool kDue>
std::size_t SimulatedExchange::scan_run(const Event* first, std::size_t count, std::uint32_t id) const noexcept {
  const std::int64_t due = kDue ? inbound_[inbound_head_].arrival_ns : kMaxTime;
  const OrderBounds b = order_bounds(id);
  // Prices strictly between our highest bid and our lowest ask pass passes_orders() whatever the
  // event (a level of either side is off our prices and does not cross them, a trade there fills
  // nothing), so most events take one unsigned range compare. With no bid (ask) the bound is INT64_MIN
  // (MAX). The one event passes_orders() refuses there, a level event with an invalid side, is refused
  // by the book (kBadSide) in the batch as it would be by apply_one(): same index, error and state.
  const std::uint64_t inside_lo = static_cast<std::uint64_t>(b.bid_hi) + 1;
  const std::uint64_t inside_width =
      b.ask_lo > b.bid_hi ? static_cast<std::uint64_t>(b.ask_lo) - static_cast<std::uint64_t>(b.bid_hi) - 1 : 0;
  std::size_t k = 0;
  for (; k < count; ++k) {
    const Event& event = first[k];
    if constexpr (kDue) {
      if (event_time(event) > due) break;
    }
    if (static_cast<std::uint64_t>(event.px_ticks) - inside_lo < inside_width) [[likely]] continue;
    if (!passes_orders(event, b.bid_lo, b.bid_hi, b.ask_lo, b.ask_hi)) break;
  }
  return k;
}

// An event's exchange and local times (its first 16 bytes) as one vector: GCC and Clang vector
// extensions, SSE2 / NEON registers on the targets we build for.
using Times = std::int64_t __attribute__((vector_size(16)));
static_assert(offsetof(Event, ts_exchange_ns) == 0 && offsetof(Event, ts_local_ns) == 8);
[[gnu::always_inline]] inline Times times_of(const Event& event) noexcept {
  Times times;
  std::memcpy(&times, &event, sizeof times);
  return times;
}

// Whether at[0..7] each have the local and exchange time of the event before them (at[-1..6]). The
// two times are an event's first 16 bytes: compared in vector registers with one branch.
[[gnu::always_inline]] inline bool same_times8(const Event* at) noexcept {
  Times x = times_of(at[0]) ^ times_of(at[-1]);
  for (std::size_t j = 1; j < 8; ++j) x |= times_of(at[j]) ^ times_of(at[j - 1]);
  return (x[0] | x[1]) == 0;
}

// note_applied() for each of the first `applied` events of a run, in order, with the clock and the last
// recorded message's times in registers (a histogram write may alias them: as members they were
// reloaded and stored per message; -3 % venue instructions on the synthetic market, whose messages are
// 1.1 events). The events of one message share their times: an event with the same local and exchange
// time as the one before it has the same t, finds the clock already at t or later, and would record the
// feed latency only where the one before it did not (same test on the same fields): nothing to do for
// it. Eight events are tested at a time (same_times8(): a depth frame is tens of events with the same
// times); eight that are not all alike go one at a time (a retry after each would test a group that
// ends in a message start up to 8 times: +10 % venue instructions on the synthetic market), and after
// eight with two or more message starts (short messages: trades, the synthetic market's 1.1 events per
// message) the next eight go one at a time without the group test, which would fail.
void SimulatedExchange::note_run(const Event* first, std::size_t applied) noexcept {
  if (applied == 0) return;
  std::int64_t clock = clock_ns_;
  std::int64_t feed_local = feed_local_ns_;
  std::int64_t feed_exchange = feed_exchange_ns_;
  const std::int64_t offset = config_.clock_offset_ns;
  const auto note = [&](const Event& event) noexcept {  // note_applied() with the state in locals
    advance_feed(event, venue_time(event, offset), clock, feed_local, feed_exchange, feed_latency_);
  };
  note(first[0]);
  std::size_t k = 1;
  bool long_messages = true;  // the last eight held at most one message start: worth a group test
  while (k < applied) {
    if (long_messages && k + 8 <= applied && same_times8(first + k)) {
      k += 8;
      continue;
    }
    std::size_t starts = 0;
    for (const std::size_t end = std::min(k + 8, applied); k < end; ++k) {
      if (first[k].ts_local_ns != first[k - 1].ts_local_ns || first[k].ts_exchange_ns != first[k - 1].ts_exchange_ns) {
        note(first[k]);
        ++starts;
      }
    }
    long_messages = starts < 2;
  }
  clock_ns_ = clock;
  feed_local_ns_ = feed_local;
  feed_exchange_ns_ = feed_exchange;
}

// What apply_one() does to a run of events of one instrument, none of them later than the next
// intent's arrival and none touching a resting order (passes_orders(); every event does when nothing
// rests): no arrival is processed, on_market() changes nothing (the old level it would read is not
// needed), so only the book, the clock, the feed latency and the event count change. The book gets
// the run in one try_apply_batch() call (same book, sequence and timestamps as per event), then the
// clock and feed latency are brought up to date over the events it applied, in order (note_run()).
// Orders cannot change inside a run (no arrival, no fill), so their bounds hold for all of it.
std::size_t SimulatedExchange::apply_run(std::span<const Event> events, ExchangeError& error) noexcept {
  // 16 K of 64-byte events: the scan, the batch and the clock pass reread them from L1.
  constexpr std::size_t kRunEvents = 256;
  const Event* const first = events.data();
  const std::uint32_t id = first->instrument_id;
  if (id >= books_.size()) return 0;
  std::size_t count = std::min(events.size(), kRunEvents);
  const bool has_orders = head_[id] != kNone;
  const bool has_inbound = inbound_head_ < inbound_.size();
  if (has_orders || has_inbound) {
    count = has_inbound ? scan_run<true>(first, count, id) : scan_run<false>(first, count, id);
    if (count == 0) return 0;
  }
  // The batch stops at the first event of another instrument (kUnknownBook: the run ends there, it is
  // not applied) or at a refused event (the per-event path's kBookRefused on that same event).
  const book::BatchResult result = books_[id].try_apply_batch(events.first(count), id);
  const std::size_t applied = result.applied;
  note_run(first, applied);
  stats_.events += applied;
  stats_.batched_events += applied;
  if (result.error != book::ApplyError::kOk && first[result.applied].instrument_id == id) [[unlikely]] {
    book_error_ = result.error;
    error = ExchangeError::kBookRefused;
  }
  return result.applied;
}

ExchangeError SimulatedExchange::try_on_event(const Event& event) noexcept { return apply_one(event); }

std::size_t SimulatedExchange::on_events(std::span<const Event> events, ExchangeError& error) noexcept {
  error = ExchangeError::kOk;
  const std::size_t n = events.size();
  std::size_t i = 0;
  while (i < n) {
    if (config_.batch_runs) {
      const std::size_t done = apply_run(events.subspan(i), error);
      i += done;
      if (error != ExchangeError::kOk) return i;
      if (done != 0) continue;  // the next event may start another run (a run is at most kRunEvents)
    }
    error = apply_one(events[i]);
    if (error != ExchangeError::kOk) return i;
    ++i;
  }
  return n;
}

void SimulatedExchange::submit(const OrderIntent& intent) {
  ++stats_.intents;
  const std::int64_t latency = draw(config_.order_latency, order_rng_);
  order_latency_.record(static_cast<std::uint64_t>(latency));
  // One session: an intent never overtakes the one sent before it.
  const std::int64_t arrival = std::max(saturating_add(intent.ts_ns, latency), last_arrival_ns_);
  last_arrival_ns_ = arrival;
  inbound_.push_back(Inbound{intent, arrival});
}

void SimulatedExchange::advance_to(std::int64_t ts_ns) noexcept {
  while (inbound_head_ < inbound_.size() && inbound_[inbound_head_].arrival_ns <= ts_ns) {
    const Inbound inbound = inbound_[inbound_head_++];
    process_arrival(inbound);
  }
  if (inbound_head_ == inbound_.size()) {
    inbound_.clear();
    inbound_head_ = 0;
  }
}

std::size_t SimulatedExchange::drain_reports(std::span<ExecutionReport> out, std::int64_t until_local_ns) noexcept {
  std::size_t count = 0;
  while (report_head_ < reports_.size() && count < out.size() && reports_[report_head_].ts_local_ns <= until_local_ns) {
    out[count++] = reports_[report_head_++];
  }
  if (report_head_ == reports_.size()) {
    reports_.clear();
    report_head_ = 0;
  }
  return count;
}

std::int64_t SimulatedExchange::queue_ahead(std::uint64_t order_id) const noexcept {
  const std::uint32_t slot = find(order_id);
  return slot == kNone ? -1 : orders_[slot].ahead_lots;
}

void SimulatedExchange::process_arrival(const Inbound& inbound) noexcept {
  std::int64_t now = inbound.arrival_ns;
  if (now < clock_ns_) {
    ++stats_.late_orders;
    now = clock_ns_;
  }
  clock_ns_ = now;
  const OrderIntent& intent = inbound.intent;
  switch (intent.kind) {
    case IntentKind::kNew:
      on_new(intent, now);
      return;
    case IntentKind::kCancel:
      on_cancel(intent, now);
      return;
    case IntentKind::kReplace:
      on_replace(intent, now);
      return;
  }
  reject(intent, ReportReason::kVenueRejected, now);
}

bool SimulatedExchange::crosses(std::uint32_t instrument_id, Side side, std::int64_t px) const noexcept {
  const book::BookSide& other = books_[instrument_id].side(opposite(side));
  if (other.empty()) return false;
  const std::int64_t best = other.best().px_ticks;
  return side == Side::kBid ? best <= px : best >= px;
}

void SimulatedExchange::on_new(const OrderIntent& intent, std::int64_t now) noexcept {
  const bool valid = intent.order_id != 0 && intent.instrument_id < books_.size() && intent.qty_lots > 0 &&
                     static_cast<std::uint8_t>(intent.side) < 2 && static_cast<std::uint8_t>(intent.type) < 2 &&
                     static_cast<std::uint8_t>(intent.tif) < 3;
  if (!valid || find(intent.order_id) != kNone) {
    reject(intent, ReportReason::kVenueRejected, now);
    return;
  }
  const bool market = intent.type == OrderType::kMarket;
  const bool may_rest = !market && intent.tif != TimeInForce::kIoc;
  if (may_rest && free_.empty()) {  // refused before anything fills: no half-done order
    reject(intent, ReportReason::kVenueRejected, now);
    return;
  }
  std::int64_t qty = intent.qty_lots;
  if (intent.reduce_only != 0) {
    const std::int64_t position = position_lots_[intent.instrument_id];
    const std::int64_t reducible = intent.side == Side::kBid ? (position < 0 ? -position : 0) : std::max<std::int64_t>(position, 0);
    if (reducible == 0) {
      reject(intent, ReportReason::kVenueRejected, now);
      return;
    }
    qty = std::min(qty, reducible);
  }
  const bool would_take = market || crosses(intent.instrument_id, intent.side, intent.px_ticks);
  if (would_take && !market && intent.tif == TimeInForce::kPostOnly) {
    ExecutionReport r{};
    r.ts_exchange_ns = now;
    r.px_ticks = intent.px_ticks;
    r.order_id = intent.order_id;
    r.instrument_id = intent.instrument_id;
    r.kind = ReportKind::kCancelled;
    r.reason = ReportReason::kPostOnlyWouldCross;
    r.side = intent.side;
    report(r);
    return;
  }
  const std::int64_t filled = would_take ? take(intent, qty, intent.px_ticks, market, now) : 0;
  const std::int64_t left = qty - filled;
  if (left == 0) return;
  ExecutionReport r{};
  r.ts_exchange_ns = now;
  r.px_ticks = intent.px_ticks;
  r.order_id = intent.order_id;
  r.instrument_id = intent.instrument_id;
  r.side = intent.side;
  if (!may_rest) {
    r.kind = ReportKind::kCancelled;
    r.reason = ReportReason::kNoLiquidity;
    report(r);
    return;
  }
  rest(intent, intent.px_ticks, left);
  r.kind = ReportKind::kAck;
  report(r);
}

void SimulatedExchange::on_cancel(const OrderIntent& intent, std::int64_t now) noexcept {
  const std::uint32_t slot = intent.order_id == 0 ? kNone : find(intent.order_id);
  if (slot == kNone) {
    reject(intent, ReportReason::kUnknownOrder, now);
    return;
  }
  const Resting& order = orders_[slot];
  ExecutionReport r{};
  r.ts_exchange_ns = now;
  r.px_ticks = order.px_ticks;
  r.order_id = order.order_id;
  r.instrument_id = order.instrument_id;
  r.kind = ReportKind::kCancelled;
  r.reason = ReportReason::kUserCancel;
  r.side = order.side;
  remove(slot);
  report(r);
}

void SimulatedExchange::on_replace(const OrderIntent& intent, std::int64_t now) noexcept {
  const std::uint32_t slot = intent.order_id == 0 ? kNone : find(intent.order_id);
  if (slot == kNone) {
    reject(intent, ReportReason::kUnknownOrder, now);
    return;
  }
  Resting& order = orders_[slot];
  if (intent.qty_lots <= 0 || static_cast<std::uint8_t>(intent.tif) > 2) {
    OrderIntent refused = intent;
    refused.side = order.side;
    refused.instrument_id = order.instrument_id;
    reject(refused, ReportReason::kVenueRejected, now);  // the order keeps working unchanged
    return;
  }
  ExecutionReport r{};
  r.ts_exchange_ns = now;
  r.px_ticks = intent.px_ticks;
  r.order_id = order.order_id;
  r.instrument_id = order.instrument_id;
  r.side = order.side;
  if (intent.px_ticks == order.px_ticks && intent.qty_lots <= order.leaves_lots) {
    order.leaves_lots = intent.qty_lots;  // a smaller order at the same price keeps its place in the queue
    r.kind = ReportKind::kAck;
    report(r);
    return;
  }
  // A new price or a larger size goes to the back of the queue, like a cancel and a new order.
  OrderIntent placed = intent;
  placed.side = order.side;
  placed.instrument_id = order.instrument_id;
  placed.type = OrderType::kLimit;
  remove(slot);
  const bool would_take = crosses(placed.instrument_id, placed.side, placed.px_ticks);
  if (would_take && placed.tif == TimeInForce::kPostOnly) {
    r.kind = ReportKind::kCancelled;
    r.reason = ReportReason::kPostOnlyWouldCross;
    report(r);
    return;
  }
  const std::int64_t filled = would_take ? take(placed, placed.qty_lots, placed.px_ticks, false, now) : 0;
  const std::int64_t left = placed.qty_lots - filled;
  if (left == 0) return;
  if (placed.tif == TimeInForce::kIoc) {
    r.kind = ReportKind::kCancelled;
    r.reason = ReportReason::kNoLiquidity;
    report(r);
    return;
  }
  rest(placed, placed.px_ticks, left);  // the slot freed by remove() is there
  r.kind = ReportKind::kAck;
  report(r);
}

std::int64_t SimulatedExchange::take(const OrderIntent& intent, std::int64_t qty_lots, std::int64_t limit_px,
                                     bool market, std::int64_t now) noexcept {
  const bool buy = intent.side == Side::kBid;
  std::int64_t remaining = qty_lots;
  // Each level is taken once, at its price: the walk itself has no impact problem; the replayed book
  // is not reduced afterwards (see the file comment).
  books_[intent.instrument_id].side(opposite(intent.side)).for_each_level([&](book::Level level) {
    if (!market && (buy ? level.px_ticks > limit_px : level.px_ticks < limit_px)) return false;
    const std::int64_t qty = std::min(remaining, level.qty_lots);
    emit_fill(intent.instrument_id, intent.order_id, intent.side, level.px_ticks, qty, FillLiquidity::kTaker, now);
    remaining -= qty;
    return remaining > 0;
  });
  return qty_lots - remaining;
}

std::int64_t SimulatedExchange::own_lots_at(std::uint32_t instrument_id, Side side, std::int64_t px) const noexcept {
  std::int64_t lots = 0;
  for (std::uint32_t slot = head_[instrument_id]; slot != kNone; slot = orders_[slot].next) {
    const Resting& order = orders_[slot];
    if (order.side == side && order.px_ticks == px) lots += order.leaves_lots;
  }
  return lots;
}

bool SimulatedExchange::rest(const OrderIntent& intent, std::int64_t px, std::int64_t qty) noexcept {
  if (free_.empty()) return false;
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  Resting& order = orders_[slot];
  order.order_id = intent.order_id;
  order.px_ticks = px;
  order.leaves_lots = qty;
  // Behind everything resting at the price, our own earlier orders included.
  order.ahead_lots = books_[intent.instrument_id].side(intent.side).qty_at(px) +
                     own_lots_at(intent.instrument_id, intent.side, px);
  order.traded_at_px_lots = 0;
  order.instrument_id = intent.instrument_id;
  order.side = intent.side;
  order.next = kNone;
  order.prev = tail_[intent.instrument_id];
  if (order.prev != kNone) {
    orders_[order.prev].next = slot;
  } else {
    head_[intent.instrument_id] = slot;
  }
  tail_[intent.instrument_id] = slot;
  index_insert(intent.order_id, slot);
  ++open_count_;
  return true;
}

void SimulatedExchange::remove(std::uint32_t slot) noexcept {
  Resting& order = orders_[slot];
  if (order.prev != kNone) {
    orders_[order.prev].next = order.next;
  } else {
    head_[order.instrument_id] = order.next;
  }
  if (order.next != kNone) {
    orders_[order.next].prev = order.prev;
  } else {
    tail_[order.instrument_id] = order.prev;
  }
  index_erase(order.order_id);
  order.order_id = 0;
  free_.push_back(slot);
  --open_count_;
}

void SimulatedExchange::on_market(std::uint32_t instrument_id, const Event& event, std::int64_t old_qty) noexcept {
  const std::int64_t now = clock_ns_;
  if (static_cast<unsigned>(event.kind) - 2U < 2U) {  // level change
    for (std::uint32_t slot = head_[instrument_id]; slot != kNone;) {
      Resting& order = orders_[slot];
      const std::uint32_t next = order.next;  // the order may be filled and unlinked below
      if (order.side == event.side) {
        if (order.px_ticks == event.px_ticks) on_level_change(order, old_qty, event.qty_lots);
      } else if (event.qty_lots > 0 &&
                 (order.side == Side::kBid ? event.px_ticks <= order.px_ticks : event.px_ticks >= order.px_ticks)) {
        // The other side now rests at or through our price: whoever posted it took everything at our
        // price first, us included.
        fill_passive(slot, order.leaves_lots, now);
      }
      slot = next;
    }
    return;
  }
  if (event.kind != EventKind::kTrade || static_cast<std::uint8_t>(event.side) > 1) return;
  const Side passive = opposite(event.side);  // event.side is the aggressor
  for (std::uint32_t slot = head_[instrument_id]; slot != kNone;) {
    Resting& order = orders_[slot];
    const std::uint32_t next = order.next;
    if (order.side == passive) {
      const bool through = passive == Side::kBid ? event.px_ticks < order.px_ticks : event.px_ticks > order.px_ticks;
      if (through) {
        fill_passive(slot, order.leaves_lots, now);
      } else if (event.px_ticks == order.px_ticks) {
        order.traded_at_px_lots += event.qty_lots;
        const std::int64_t beyond_queue = event.qty_lots - order.ahead_lots;
        if (beyond_queue > 0) {
          order.ahead_lots = 0;
          fill_passive(slot, std::min(beyond_queue, order.leaves_lots), now);
        } else {
          order.ahead_lots -= event.qty_lots;
        }
      }
    }
    slot = next;
  }
}

void SimulatedExchange::on_level_change(Resting& order, std::int64_t old_qty, std::int64_t new_qty) noexcept {
  const std::int64_t traded = order.traded_at_px_lots;
  order.traded_at_px_lots = 0;
  if (new_qty >= old_qty) return;  // additions join behind us
  // What trade prints at our price already took from the front is not a cancel.
  const std::int64_t cancelled = old_qty - new_qty - std::min(old_qty - new_qty, traded);
  if (config_.queue_model == QueueModel::kProbabilistic && cancelled > 0 && order.ahead_lots > 0) {
    const std::int64_t ahead = order.ahead_lots;
    const std::int64_t behind = std::max<std::int64_t>(0, old_qty - std::min(old_qty, traded) - ahead);
    const double f_ahead = power_of(ahead, config_.queue_power);
    const double f_behind = power_of(behind, config_.queue_power);
    const double p_ahead = f_ahead / (f_ahead + f_behind);
    const double u = static_cast<double>(queue_rng_.next() >> 11) * 0x1p-53;
    std::int64_t from_ahead = u < p_ahead ? cancelled : std::max<std::int64_t>(0, cancelled - behind);
    from_ahead = std::min(from_ahead, ahead);
    order.ahead_lots -= from_ahead;
  }
  order.ahead_lots = std::min(order.ahead_lots, new_qty);
}

void SimulatedExchange::fill_passive(std::uint32_t slot, std::int64_t qty, std::int64_t now) noexcept {
  Resting& order = orders_[slot];
  emit_fill(order.instrument_id, order.order_id, order.side, order.px_ticks, qty, FillLiquidity::kMaker, now);
  order.leaves_lots -= qty;
  if (order.leaves_lots == 0) remove(slot);
}

void SimulatedExchange::emit_fill(std::uint32_t instrument_id, std::uint64_t order_id, Side side, std::int64_t px,
                                  std::int64_t qty, FillLiquidity liquidity, std::int64_t now) noexcept {
  const InstrumentSpec& spec = config_.instruments[instrument_id];
  const std::int64_t rate = liquidity == FillLiquidity::kMaker ? spec.maker_fee_bps_e4 : spec.taker_fee_bps_e4;
  // fee = notional x rate / 10^8, rounded up (a fee a little higher, a rebate a little smaller): the
  // simulator never flatters the strategy by a rounding.
  __int128 notional = 0;
  __int128 scaled = 0;
  std::int64_t fee = 0;
  if (__builtin_mul_overflow(static_cast<__int128>(px) * qty, static_cast<__int128>(spec.notional_factor), &notional) ||
      __builtin_mul_overflow(notional, static_cast<__int128>(rate), &scaled)) {
    ++stats_.fee_overflows;
    fee = (notional < 0) != (rate < 0) ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
  } else {
    __int128 quotient = scaled / kBpsE4Denominator;
    if (scaled % kBpsE4Denominator != 0 && scaled > 0) ++quotient;
    if (quotient > std::numeric_limits<std::int64_t>::max() || quotient < std::numeric_limits<std::int64_t>::min()) {
      ++stats_.fee_overflows;
      fee = quotient > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    } else {
      fee = static_cast<std::int64_t>(quotient);
    }
  }
  ExecutionReport r{};
  r.ts_exchange_ns = now;
  r.px_ticks = px;
  r.qty_lots = qty;
  r.fee_units = fee;
  r.order_id = order_id;
  r.trade_id = next_trade_id_++;
  r.instrument_id = instrument_id;
  r.kind = ReportKind::kFill;
  r.side = side;
  r.liquidity = liquidity;
  std::int64_t& position = position_lots_[instrument_id];
  position = side == Side::kBid ? saturating_add(position, qty) : saturating_add(position, -qty);
  ++stats_.fills;
  ++(liquidity == FillLiquidity::kMaker ? stats_.maker_fills : stats_.taker_fills);
  if (fill_listener_ != nullptr) {
    const book::Book& book = books_[instrument_id];
    const bool two_sided = !book.bids().empty() && !book.asks().empty();
    const std::int64_t mid_x2 = two_sided ? book.bids().best().px_ticks + book.asks().best().px_ticks : 0;
    fill_listener_->on_fill(r, mid_x2);
  }
  report(r);
}

void SimulatedExchange::report(const ExecutionReport& r) noexcept {
  ExecutionReport out = r;
  const std::int64_t latency = draw(config_.response_latency, response_rng_);
  response_latency_.record(static_cast<std::uint64_t>(latency));
  out.ts_local_ns = std::max(saturating_add(r.ts_exchange_ns, latency), last_report_local_ns_);
  last_report_local_ns_ = out.ts_local_ns;
  reports_.push_back(out);
}

void SimulatedExchange::reject(const OrderIntent& intent, ReportReason reason, std::int64_t now) noexcept {
  ++stats_.rejects;
  ExecutionReport r{};
  r.ts_exchange_ns = now;
  r.px_ticks = intent.px_ticks;
  r.order_id = intent.order_id;
  r.instrument_id = intent.instrument_id;
  r.kind = ReportKind::kReject;
  r.reason = reason;
  r.side = intent.side;
  report(r);
}

std::uint32_t SimulatedExchange::find(std::uint64_t order_id) const noexcept {
  for (std::uint64_t cell = (order_id * 0x9E3779B97F4A7C15ULL) & index_mask_;; cell = (cell + 1) & index_mask_) {
    if (index_keys_[cell] == order_id) return index_slots_[cell];
    if (index_keys_[cell] == 0) return kNone;
  }
}

void SimulatedExchange::index_insert(std::uint64_t order_id, std::uint32_t slot) noexcept {
  // At most max_open_orders keys in 2x as many cells: a free cell always exists.
  std::uint64_t cell = (order_id * 0x9E3779B97F4A7C15ULL) & index_mask_;
  while (index_keys_[cell] != 0) cell = (cell + 1) & index_mask_;
  index_keys_[cell] = order_id;
  index_slots_[cell] = slot;
}

void SimulatedExchange::index_erase(std::uint64_t order_id) noexcept {
  std::uint64_t hole = (order_id * 0x9E3779B97F4A7C15ULL) & index_mask_;
  while (index_keys_[hole] != order_id) {
    if (index_keys_[hole] == 0) return;
    hole = (hole + 1) & index_mask_;
  }
  // Backward-shift deletion: keeps every key reachable from its home cell without tombstones.
  for (std::uint64_t cell = (hole + 1) & index_mask_; index_keys_[cell] != 0; cell = (cell + 1) & index_mask_) {
    const std::uint64_t home = (index_keys_[cell] * 0x9E3779B97F4A7C15ULL) & index_mask_;
    // Move the key into the hole unless its home lies cyclically in (hole, cell].
    const bool home_between = hole <= cell ? (home > hole && home <= cell) : (home > hole || home <= cell);
    if (!home_between) {
      index_keys_[hole] = index_keys_[cell];
      index_slots_[hole] = index_slots_[cell];
      hole = cell;
    }
  }
  index_keys_[hole] = 0;
  index_slots_[hole] = kNone;
}

}  // namespace fastcore::sim
