#include "fastcore/risk/risk_check.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace fastcore::risk {
namespace {

constexpr std::int64_t kNanoTokensPerOrder = 1'000'000'000;
constexpr __int128 kBpsDenominator = 10'000;

__int128 pow10(std::int32_t n) noexcept {
  __int128 out = 1;
  for (std::int32_t i = 0; i < n; ++i) out *= 10;
  return out;
}

TradingState most_restrictive(TradingState a, TradingState b) noexcept { return a > b ? a : b; }

/// Orders and positions beyond 2^100 money units are refused, so sums over every working order and position
/// (at most 2^22 + instruments terms) stay inside 128 bits.
constexpr __int128 kMaxNotional = static_cast<__int128>(1) << 100;

/// |px x qty| x money_per_tick_lot, false beyond kMaxNotional. px x qty of two int64 cannot overflow 128 bits.
bool try_notional(std::int64_t px_ticks, std::int64_t qty_lots, __int128 money_per_tick_lot, __int128& out) noexcept {
  // Common case: px x qty and the factor both fit int64, so the product is one 64x64->128 multiply
  // below 2^126 (no overflow possible) instead of a checked 128x128 one; same result either way.
  std::int64_t base64 = 0;
  if (money_per_tick_lot >= 0 && money_per_tick_lot <= std::numeric_limits<std::int64_t>::max() &&
      !__builtin_mul_overflow(px_ticks, qty_lots, &base64) && base64 != std::numeric_limits<std::int64_t>::min())
      [[likely]] {
    out = static_cast<__int128>(base64 < 0 ? -base64 : base64) * static_cast<std::int64_t>(money_per_tick_lot);
    return out <= kMaxNotional;
  }
  __int128 base = static_cast<__int128>(px_ticks) * qty_lots;
  if (base < 0) base = -base;
  return !__builtin_mul_overflow(base, money_per_tick_lot, &out) && out <= kMaxNotional;
}

/// Operands below 2^kCollarPxBits (prices, sums of two prices) and collars below 2^kCollarBpsBits keep both
/// sides of a collar comparison inside int64: |2px - 2mid| x 10^4 < 2^41 x 2^14 and bps x 2mid < 2^22 x 2^41.
constexpr int kCollarPxBits = 40;
constexpr int kCollarBpsBits = 22;

/// |px - ref| x 10^4 > bps x ref for operands within the bounds above (callers check them).
bool outside_collar64(std::int64_t px, std::int64_t ref, std::int64_t bps) noexcept {
  const std::int64_t distance = px >= ref ? px - ref : ref - px;
  return distance * static_cast<std::int64_t>(kBpsDenominator) > bps * ref;
}

/// The same comparison exact for any int64 operands.
bool outside_collar128(__int128 px, __int128 ref, std::int64_t bps) noexcept {
  __int128 distance = px - ref;
  if (distance < 0) distance = -distance;
  return distance * kBpsDenominator > static_cast<__int128>(bps) * ref;
}

bool valid_throttle(const Throttle& t) noexcept {
  // The rate bound keeps burst x 10^9 and rate x elapsed well inside 128 bits and burst inside 64.
  return t.orders_per_s >= 0 && t.orders_per_s <= 1'000'000'000 && (t.orders_per_s == 0 || (t.burst >= 1 && t.burst <= 1'000'000'000));
}

bool valid_scope_limits(const ScopeLimits& l) noexcept {
  return l.max_gross_notional >= 0 && l.daily_loss_reduce >= 0 && l.daily_loss_halt >= 0 && l.drawdown_reduce >= 0 &&
         l.drawdown_halt >= 0 && valid_throttle(l.throttle);
}

}  // namespace

const char* describe(RiskReason reason) noexcept {
  switch (reason) {
    case RiskReason::kOk: return "ok";
    case RiskReason::kUnknownInstrument: return "unknown instrument id";
    case RiskReason::kGlobalHalted: return "trading is halted globally (kill switch)";
    case RiskReason::kVenueHalted: return "trading is halted on this venue (kill switch)";
    case RiskReason::kInstrumentHalted: return "trading is halted on this instrument (kill switch)";
    case RiskReason::kBadQty: return "quantity must be > 0 lots";
    case RiskReason::kBadPrice: return "price must be > 0 ticks";
    case RiskReason::kQtyBelowMin: return "quantity below the minimum order quantity";
    case RiskReason::kQtyAboveMax: return "quantity above the maximum order quantity";
    case RiskReason::kNotLotMultiple: return "quantity is not a multiple of the quantity step";
    case RiskReason::kNotTickMultiple: return "price is not a multiple of the price step";
    case RiskReason::kNotionalBelowMin: return "order notional below the minimum notional";
    case RiskReason::kNotionalAboveMax:
      return "order notional above the maximum order notional (or beyond 2^100 money units)";
    case RiskReason::kGlobalReduceOnly: return "global state is REDUCE_ONLY and the order does not reduce the position";
    case RiskReason::kVenueReduceOnly: return "venue is REDUCE_ONLY and the order does not reduce the position";
    case RiskReason::kInstrumentReduceOnly:
      return "instrument is REDUCE_ONLY and the order does not reduce the position";
    case RiskReason::kReduceOnlyWouldIncrease:
      return "reduce-only order would not reduce the position (working orders on the same side count)";
    case RiskReason::kBookStale: return "book is stale (no update within the staleness threshold)";
    case RiskReason::kBookCrossed: return "book is crossed (best bid at or above best ask)";
    case RiskReason::kBookResyncing: return "book is resynchronising with the venue";
    case RiskReason::kNoReferencePrice: return "price collar configured but there is no mid or last trade price";
    case RiskReason::kOutsideCollarMid: return "price outside the collar around mid";
    case RiskReason::kOutsideCollarLast: return "price outside the collar around the last trade";
    case RiskReason::kSelfTrade: return "order would trade against one of our own working orders";
    case RiskReason::kMaxLongPosition: return "position + working buys + order above the maximum long position";
    case RiskReason::kMaxShortPosition: return "position - working sells - order below the maximum short position";
    case RiskReason::kTooManyOpenOrders: return "open orders on the instrument at the limit";
    case RiskReason::kInstrumentGrossNotional: return "instrument gross notional would exceed its limit";
    case RiskReason::kVenueGrossNotional: return "venue gross notional would exceed its limit";
    case RiskReason::kTotalGrossNotional: return "total gross notional would exceed the global limit";
    case RiskReason::kInstrumentThrottled: return "instrument order rate limit reached (token bucket empty)";
    case RiskReason::kVenueThrottled: return "venue order rate limit reached (token bucket empty)";
    case RiskReason::kOrderTableFull: return "working-order table is full";
    case RiskReason::kDuplicateOrderId: return "an order with this id is already working";
  }
  return "unknown risk reason";
}

const char* describe(OrderError error) noexcept {
  switch (error) {
    case OrderError::kOk: return "ok";
    case OrderError::kUnknownInstrument: return "unknown instrument id";
    case OrderError::kUnknownOrder: return "no working order with this id";
    case OrderError::kDuplicateOrderId: return "an order with this id is already working";
    case OrderError::kTableFull: return "working-order table is full";
    case OrderError::kBadQty: return "quantity must be > 0 lots";
    case OrderError::kOverfill: return "fill larger than the order's remaining quantity";
    case OrderError::kBadLimits:
      return "limits must be >= 0, steps >= 1, and a throttle rate (<= 1e9/s) needs a burst of 1..1e9";
    case OrderError::kBadScope: return "unknown venue id, or this call does not apply to that scope";
    case OrderError::kOverflow: return "notional beyond 2^100 money units, or a position beyond 64 bits";
  }
  return "unknown order error";
}

const char* describe(TradingState state) noexcept {
  switch (state) {
    case TradingState::kActive: return "ACTIVE";
    case TradingState::kReduceOnly: return "REDUCE_ONLY";
    case TradingState::kHalted: return "HALTED";
  }
  return "unknown trading state";
}

// ---- token bucket ----

std::int64_t RiskEngine::Bucket::level_at(std::int64_t now_ns) const noexcept {
  if (rate == 0) return INT64_MAX;
  const __int128 elapsed = static_cast<__int128>(now_ns) - ts_ns;  // 128 bits: any two int64 timestamps.
  if (elapsed <= 0) return level;  // Clock went back or same instant: no refill, never a negative one.
  const __int128 refilled = static_cast<__int128>(level) + elapsed * rate;
  return refilled >= capacity ? capacity : static_cast<std::int64_t>(refilled);
}

bool RiskEngine::Bucket::has_token(std::int64_t now_ns) const noexcept {
  // level_at() never returns less than min(level, capacity) and capacity >= one order whenever rate != 0,
  // so a bucket already holding a token needs no refill arithmetic; the answer is the same either way.
  return rate == 0 || level >= kNanoTokensPerOrder || level_at(now_ns) >= kNanoTokensPerOrder;
}

void RiskEngine::Bucket::configure(const Throttle& throttle) noexcept {
  rate = throttle.orders_per_s;
  capacity = rate == 0 ? 0 : throttle.burst * kNanoTokensPerOrder;
  level = capacity;
  ts_ns = INT64_MIN / 2;  // Full from the first order on, whatever its timestamp.
}

// ---- set-up ----

OrderError RiskEngine::try_init(std::span<const common::Instrument> instruments, std::uint32_t order_capacity) {
  if (instruments.empty() || order_capacity == 0 || order_capacity > kMaxOrderCapacity) return OrderError::kBadLimits;
  if (instruments.size() >= kNil) return OrderError::kBadLimits;
  scale_ = 0;
  for (const common::Instrument& i : instruments) scale_ = std::max(scale_, i.notional_decimals());
  instruments_.assign(instruments.size(), InstrumentState{});
  venue_names_.clear();
  for (std::size_t n = 0; n < instruments.size(); ++n) {
    const common::Instrument& source = instruments[n];
    InstrumentState& ins = instruments_[n];
    const auto found = std::find(venue_names_.begin(), venue_names_.end(), source.venue);
    ins.venue = static_cast<std::uint32_t>(found - venue_names_.begin());
    if (found == venue_names_.end()) venue_names_.push_back(source.venue);
    const __int128 to_scale = pow10(scale_ - source.notional_decimals());
    ins.money_per_tick_lot = source.notional_factor() * to_scale;
    ins.money_per_tick_lot64 =
        ins.money_per_tick_lot > 0 && ins.money_per_tick_lot <= std::numeric_limits<std::int64_t>::max()
            ? static_cast<std::int64_t>(ins.money_per_tick_lot)
            : 0;
    ins.min_qty_lots = ins.instrument_min_qty_lots = source.min_qty_lots;
    ins.min_notional = ins.instrument_min_notional = static_cast<std::int64_t>(source.min_notional_units * to_scale);
  }
  venues_.assign(venue_names_.size(), VenueState{});
  global_ = VenueState{};
  orders_.assign(order_capacity, Order{});
  for (std::uint32_t s = 0; s < order_capacity; ++s) orders_[s].next = s + 1 < order_capacity ? s + 1 : kNil;
  free_head_ = 0;
  // At most half full, so probes stay short even at capacity.
  const std::uint64_t index_size = std::bit_ceil(static_cast<std::uint64_t>(order_capacity) * 2);
  index_.assign(index_size, kNil);
  index_mask_ = index_size - 1;
  working_ = 0;
  return OrderError::kOk;
}

OrderError RiskEngine::try_set_limits(std::uint32_t instrument_id, const InstrumentLimits& l) noexcept {
  if (instrument_id >= instruments_.size()) return OrderError::kUnknownInstrument;
  const bool valid = l.min_qty_lots >= 0 && l.max_qty_lots >= 0 && l.qty_step_lots >= 1 && l.px_step_ticks >= 1 &&
                     l.min_notional >= 0 && l.max_order_notional >= 0 && l.collar_mid_bps >= 0 &&
                     l.collar_last_bps >= 0 && l.max_long_lots >= 0 && l.max_short_lots >= 0 &&
                     l.max_open_orders >= 0 && l.max_gross_notional >= 0 && l.stale_after_ns >= 0 &&
                     valid_throttle(l.throttle);
  if (!valid) return OrderError::kBadLimits;
  InstrumentState& ins = instruments_[instrument_id];
  // The instrument's own minimums stay the floor: a limit can tighten them, never loosen them.
  ins.min_qty_lots = std::max(ins.instrument_min_qty_lots, l.min_qty_lots);
  ins.min_notional = std::max(ins.instrument_min_notional, l.min_notional);
  ins.limits = l;
  ins.bucket.configure(l.throttle);
  return OrderError::kOk;
}

OrderError RiskEngine::try_set_venue_limits(std::uint32_t venue_id, const ScopeLimits& limits) noexcept {
  if (venue_id >= venues_.size()) return OrderError::kBadScope;
  if (!valid_scope_limits(limits)) return OrderError::kBadLimits;
  venues_[venue_id].limits = limits;
  venues_[venue_id].bucket.configure(limits.throttle);
  return OrderError::kOk;
}

OrderError RiskEngine::try_set_global_limits(const ScopeLimits& limits) noexcept {
  if (!valid_scope_limits(limits)) return OrderError::kBadLimits;
  global_.limits = limits;
  global_.limits.throttle = Throttle{};
  return OrderError::kOk;
}

// ---- the check ----

RiskDecision RiskEngine::try_check(const OrderRequest& r, const MarketView& m) const noexcept {
  RiskDecision d;
  if (r.instrument_id >= instruments_.size()) return {RiskReason::kUnknownInstrument, false};
  const InstrumentState& ins = instruments_[r.instrument_id];
  const VenueState& venue = venues_[ins.venue];
  const InstrumentLimits& l = ins.limits;
  const bool buy = r.side == common::Side::kBid;

  const TradingState g = most_restrictive(global_.state, global_.loss);
  const TradingState v = most_restrictive(venue.state, venue.loss);
  if (g == TradingState::kHalted) return {RiskReason::kGlobalHalted, false};
  if (v == TradingState::kHalted) return {RiskReason::kVenueHalted, false};
  if (ins.state == TradingState::kHalted) return {RiskReason::kInstrumentHalted, false};

  if (r.qty_lots <= 0) return {RiskReason::kBadQty, false};
  if (r.px_ticks <= 0) return {RiskReason::kBadPrice, false};
  if (r.qty_lots < ins.min_qty_lots) return {RiskReason::kQtyBelowMin, false};
  if (l.max_qty_lots != 0 && r.qty_lots > l.max_qty_lots) return {RiskReason::kQtyAboveMax, false};
  if (l.qty_step_lots != 1 && r.qty_lots % l.qty_step_lots != 0) return {RiskReason::kNotLotMultiple, false};
  if (l.px_step_ticks != 1 && r.px_ticks % l.px_step_ticks != 0) return {RiskReason::kNotTickMultiple, false};
  // px, qty > 0 here. Common case: px x qty x factor fits int64 (so it is far below 2^100) and is compared
  // in 64 bits; otherwise the exact 128-bit path. Same decisions either way.
  __int128 notional = 0;
  std::int64_t base64 = 0;
  std::int64_t notional64 = 0;
  if (ins.money_per_tick_lot64 > 0 && !__builtin_mul_overflow(r.px_ticks, r.qty_lots, &base64) &&
      !__builtin_mul_overflow(base64, ins.money_per_tick_lot64, &notional64)) [[likely]] {
    if (notional64 < ins.min_notional) return {RiskReason::kNotionalBelowMin, false};
    if (l.max_order_notional != 0 && notional64 > l.max_order_notional) return {RiskReason::kNotionalAboveMax, false};
    notional = notional64;
  } else {
    if (!try_notional(r.px_ticks, r.qty_lots, ins.money_per_tick_lot, notional)) {
      return {RiskReason::kNotionalAboveMax, false};
    }
    if (notional < ins.min_notional) return {RiskReason::kNotionalBelowMin, false};
    if (l.max_order_notional != 0 && notional > l.max_order_notional) return {RiskReason::kNotionalAboveMax, false};
  }

  // Reducing: opposite to the position and, with every working order on the same side filled, still
  // not through zero. Only such orders pass REDUCE_ONLY, an unhealthy book and the exposure limits.
  d.reduces = buy ? (ins.net_lots < 0 && r.qty_lots + ins.working_buy_lots <= -ins.net_lots)
                  : (ins.net_lots > 0 && r.qty_lots + ins.working_sell_lots <= ins.net_lots);
  if (!d.reduces) {
    if (g == TradingState::kReduceOnly) return {RiskReason::kGlobalReduceOnly, false};
    if (v == TradingState::kReduceOnly) return {RiskReason::kVenueReduceOnly, false};
    if (ins.state == TradingState::kReduceOnly) return {RiskReason::kInstrumentReduceOnly, false};
    if (r.reduce_only) return {RiskReason::kReduceOnlyWouldIncrease, false};
  }

  // ts - book_ts in 64 bits; when it overflows its true value is beyond int64 in the direction of the
  // operands' order, so it exceeds any threshold exactly when the order is the later one.
  std::int64_t age_ns = 0;
  const bool stale = l.stale_after_ns != 0 && (__builtin_sub_overflow(r.ts_ns, m.book_ts_local_ns, &age_ns)
                                                   ? r.ts_ns > m.book_ts_local_ns
                                                   : age_ns > l.stale_after_ns);
  const bool healthy = !m.resyncing && !m.crossed && !stale;
  if (!d.reduces && !healthy) {
    if (m.resyncing) return {RiskReason::kBookResyncing, false};
    if (m.crossed) return {RiskReason::kBookCrossed, false};
    return {RiskReason::kBookStale, false};
  }

  // Collars: |px - ref| <= bps / 10^4 x ref, cross-multiplied so no division rounds. A reducing order on
  // an unhealthy book skips the mid collar: a crossed or stale mid would only block getting flat.
  if (l.collar_mid_bps != 0 && healthy) {
    if (m.has_bid && m.has_ask) {
      // Non-negative operands below the bounds (one OR tests them all) compare in 64 bits.
      const bool fits = ((static_cast<std::uint64_t>(r.px_ticks) | static_cast<std::uint64_t>(m.bid_px_ticks) |
                          static_cast<std::uint64_t>(m.ask_px_ticks)) >> kCollarPxBits) == 0 &&
                        (static_cast<std::uint64_t>(l.collar_mid_bps) >> kCollarBpsBits) == 0;
      const bool outside =
          fits ? outside_collar64(2 * r.px_ticks, m.bid_px_ticks + m.ask_px_ticks, l.collar_mid_bps)
               : outside_collar128(2 * static_cast<__int128>(r.px_ticks),
                                   static_cast<__int128>(m.bid_px_ticks) + m.ask_px_ticks, l.collar_mid_bps);
      if (outside) return {RiskReason::kOutsideCollarMid, d.reduces};
    } else if (!d.reduces) {
      return {RiskReason::kNoReferencePrice, false};
    }
  }
  if (l.collar_last_bps != 0) {
    if (m.has_last_trade) {
      const bool fits = ((static_cast<std::uint64_t>(r.px_ticks) | static_cast<std::uint64_t>(m.last_trade_px_ticks)) >>
                         kCollarPxBits) == 0 &&
                        (static_cast<std::uint64_t>(l.collar_last_bps) >> kCollarBpsBits) == 0;
      const bool outside = fits ? outside_collar64(r.px_ticks, m.last_trade_px_ticks, l.collar_last_bps)
                                : outside_collar128(r.px_ticks, m.last_trade_px_ticks, l.collar_last_bps);
      if (outside) return {RiskReason::kOutsideCollarLast, d.reduces};
    } else if (!d.reduces) {
      return {RiskReason::kNoReferencePrice, false};
    }
  }

  if (buy ? (ins.own_asks != 0 && r.px_ticks >= ins.own_best_ask) : (ins.own_bids != 0 && r.px_ticks <= ins.own_best_bid)) {
    return {RiskReason::kSelfTrade, d.reduces};
  }

  // Worst case: every working order on this side fills too.
  if (buy && l.max_long_lots != 0 && ins.net_lots + ins.working_buy_lots + r.qty_lots > l.max_long_lots) {
    return {RiskReason::kMaxLongPosition, false};
  }
  if (!buy && l.max_short_lots != 0 && ins.working_sell_lots + r.qty_lots - ins.net_lots > l.max_short_lots) {
    return {RiskReason::kMaxShortPosition, false};
  }
  if (l.max_open_orders != 0 && ins.open_orders >= l.max_open_orders) return {RiskReason::kTooManyOpenOrders, d.reduces};

  if (!d.reduces) {
    if (l.max_gross_notional != 0 && ins.gross_notional + notional > l.max_gross_notional) {
      return {RiskReason::kInstrumentGrossNotional, false};
    }
    if (venue.limits.max_gross_notional != 0 && venue.gross_notional + notional > venue.limits.max_gross_notional) {
      return {RiskReason::kVenueGrossNotional, false};
    }
    if (global_.limits.max_gross_notional != 0 && global_.gross_notional + notional > global_.limits.max_gross_notional) {
      return {RiskReason::kTotalGrossNotional, false};
    }
  }

  if (!ins.bucket.has_token(r.ts_ns)) return {RiskReason::kInstrumentThrottled, d.reduces};
  if (!venue.bucket.has_token(r.ts_ns)) return {RiskReason::kVenueThrottled, d.reduces};
  if (free_head_ == kNil) return {RiskReason::kOrderTableFull, d.reduces};
  return d;
}

RiskDecision RiskEngine::try_submit(std::uint64_t order_id, const OrderRequest& request, const MarketView& market) noexcept {
  RiskDecision d = try_check(request, market);
  if (!d.ok()) return d;
  const OrderError error = on_order_sent(order_id, request);
  if (error == OrderError::kDuplicateOrderId) d.reason = RiskReason::kDuplicateOrderId;
  else if (error != OrderError::kOk) d.reason = RiskReason::kOrderTableFull;
  return d;
}

// ---- order table ----

std::uint32_t RiskEngine::find_slot(std::uint64_t order_id) const noexcept {
  for (std::uint64_t i = mix(order_id) & index_mask_;; i = (i + 1) & index_mask_) {
    const std::uint32_t slot = index_[i];
    if (slot == kNil || orders_[slot].id == order_id) return slot;
  }
}

void RiskEngine::index_insert(std::uint64_t order_id, std::uint32_t slot) noexcept {
  std::uint64_t i = mix(order_id) & index_mask_;
  while (index_[i] != kNil) i = (i + 1) & index_mask_;
  index_[i] = slot;
}

void RiskEngine::index_erase(std::uint64_t order_id) noexcept {
  std::uint64_t i = mix(order_id) & index_mask_;
  while (orders_[index_[i]].id != order_id) i = (i + 1) & index_mask_;
  // Backward-shift deletion: no tombstones, so lookups never slow down as orders come and go.
  for (std::uint64_t j = (i + 1) & index_mask_; index_[j] != kNil; j = (j + 1) & index_mask_) {
    const std::uint64_t home = mix(orders_[index_[j]].id) & index_mask_;
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      index_[i] = index_[j];
      i = j;
    }
  }
  index_[i] = kNil;
}

void RiskEngine::add_gross(InstrumentState& ins, __int128 delta) noexcept {
  ins.gross_notional += delta;
  venues_[ins.venue].gross_notional += delta;
  global_.gross_notional += delta;
}

void RiskEngine::set_position_value(InstrumentState& ins, std::int64_t net_lots, std::int64_t mark_px_ticks,
                                    __int128 value) noexcept {
  ins.net_lots = net_lots;
  ins.mark_px_ticks = mark_px_ticks;
  add_gross(ins, value - ins.position_notional);
  ins.position_notional = value;
}

void RiskEngine::recompute_own_best(InstrumentState& ins, common::Side side) noexcept {
  bool first = true;
  std::int64_t best = 0;
  for (std::uint32_t s = ins.head; s != kNil; s = orders_[s].next) {
    const Order& o = orders_[s];
    if (o.side != side) continue;
    if (first || (side == common::Side::kBid ? o.px_ticks > best : o.px_ticks < best)) best = o.px_ticks;
    first = false;
  }
  (side == common::Side::kBid ? ins.own_best_bid : ins.own_best_ask) = best;
}

OrderError RiskEngine::on_order_sent(std::uint64_t order_id, const OrderRequest& r) noexcept {
  if (r.instrument_id >= instruments_.size()) return OrderError::kUnknownInstrument;
  if (r.qty_lots <= 0) return OrderError::kBadQty;
  __int128 notional = 0;
  if (!try_notional(r.px_ticks, r.qty_lots, instruments_[r.instrument_id].money_per_tick_lot, notional)) {
    return OrderError::kOverflow;
  }
  if (find_slot(order_id) != kNil) return OrderError::kDuplicateOrderId;
  if (free_head_ == kNil) return OrderError::kTableFull;
  const std::uint32_t slot = free_head_;
  free_head_ = orders_[slot].next;
  InstrumentState& ins = instruments_[r.instrument_id];
  Order& o = orders_[slot];
  o = Order{order_id, r.px_ticks, r.qty_lots, r.instrument_id, kNil, ins.head, r.side, false};
  if (ins.head != kNil) orders_[ins.head].prev = slot;
  ins.head = slot;
  index_insert(order_id, slot);
  ++ins.open_orders;
  ++working_;

  ins.working_notional += notional;
  add_gross(ins, notional);
  if (r.side == common::Side::kBid) {
    ins.working_buy_lots += r.qty_lots;
    if (ins.own_bids++ == 0 || r.px_ticks > ins.own_best_bid) ins.own_best_bid = r.px_ticks;
  } else {
    ins.working_sell_lots += r.qty_lots;
    if (ins.own_asks++ == 0 || r.px_ticks < ins.own_best_ask) ins.own_best_ask = r.px_ticks;
  }
  for (Bucket* bucket : {&ins.bucket, &venues_[ins.venue].bucket}) {
    if (bucket->rate == 0) continue;
    bucket->level = bucket->level_at(r.ts_ns) - kNanoTokensPerOrder;
    bucket->ts_ns = std::max(bucket->ts_ns, r.ts_ns);
  }
  return OrderError::kOk;
}

void RiskEngine::release(std::uint32_t slot) noexcept {
  Order& o = orders_[slot];
  InstrumentState& ins = instruments_[o.instrument];
  const __int128 notional = static_cast<__int128>(o.px_ticks) * o.remaining_lots * ins.money_per_tick_lot;
  ins.working_notional -= notional;
  add_gross(ins, -notional);
  if (o.prev != kNil) orders_[o.prev].next = o.next;
  else ins.head = o.next;
  if (o.next != kNil) orders_[o.next].prev = o.prev;
  if (o.side == common::Side::kBid) {
    ins.working_buy_lots -= o.remaining_lots;
    if (--ins.own_bids != 0 && o.px_ticks == ins.own_best_bid) recompute_own_best(ins, o.side);
  } else {
    ins.working_sell_lots -= o.remaining_lots;
    if (--ins.own_asks != 0 && o.px_ticks == ins.own_best_ask) recompute_own_best(ins, o.side);
  }
  --ins.open_orders;
  --working_;
  index_erase(o.id);
  o.id = 0;
  o.next = free_head_;
  free_head_ = slot;
}

OrderError RiskEngine::on_ack(std::uint64_t order_id) noexcept {
  const std::uint32_t slot = find_slot(order_id);
  if (slot == kNil) return OrderError::kUnknownOrder;
  orders_[slot].acked = true;
  return OrderError::kOk;
}

OrderError RiskEngine::on_reject(std::uint64_t order_id) noexcept {
  const std::uint32_t slot = find_slot(order_id);
  if (slot == kNil) return OrderError::kUnknownOrder;
  release(slot);
  return OrderError::kOk;
}

OrderError RiskEngine::on_cancel(std::uint64_t order_id) noexcept { return on_reject(order_id); }

OrderError RiskEngine::on_fill(std::uint64_t order_id, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
  const std::uint32_t slot = find_slot(order_id);
  if (slot == kNil) return OrderError::kUnknownOrder;
  if (qty_lots <= 0) return OrderError::kBadQty;
  Order& o = orders_[slot];
  if (qty_lots > o.remaining_lots) return OrderError::kOverfill;
  InstrumentState& ins = instruments_[o.instrument];
  // Everything that can fail is computed before anything changes.
  std::int64_t net = 0;
  if (__builtin_add_overflow(ins.net_lots, o.side == common::Side::kBid ? qty_lots : -qty_lots, &net)) {
    return OrderError::kOverflow;
  }
  __int128 value = 0;
  if (!try_notional(net, px_ticks, ins.money_per_tick_lot, value)) return OrderError::kOverflow;
  // Working exposure is released at the order's price (what was added), the position is valued at the fill.
  const __int128 notional = static_cast<__int128>(o.px_ticks) * qty_lots * ins.money_per_tick_lot;
  ins.working_notional -= notional;
  add_gross(ins, -notional);
  o.remaining_lots -= qty_lots;
  (o.side == common::Side::kBid ? ins.working_buy_lots : ins.working_sell_lots) -= qty_lots;
  set_position_value(ins, net, px_ticks, value);
  if (o.remaining_lots == 0) release(slot);
  return OrderError::kOk;
}

OrderError RiskEngine::try_set_position(std::uint32_t instrument_id, std::int64_t net_lots, std::int64_t px_ticks) noexcept {
  if (instrument_id >= instruments_.size()) return OrderError::kUnknownInstrument;
  InstrumentState& ins = instruments_[instrument_id];
  __int128 value = 0;
  if (!try_notional(net_lots, px_ticks, ins.money_per_tick_lot, value)) return OrderError::kOverflow;
  set_position_value(ins, net_lots, px_ticks, value);
  return OrderError::kOk;
}

OrderError RiskEngine::try_set_mark(std::uint32_t instrument_id, std::int64_t px_ticks) noexcept {
  if (instrument_id >= instruments_.size()) return OrderError::kUnknownInstrument;
  return try_set_position(instrument_id, instruments_[instrument_id].net_lots, px_ticks);
}

bool RiskEngine::find_order(std::uint64_t order_id, bool& acked) const noexcept {
  const std::uint32_t slot = find_slot(order_id);
  if (slot == kNil) return false;
  acked = orders_[slot].acked;
  return true;
}

__int128 RiskEngine::gross_notional(Scope scope, std::uint32_t id) const noexcept {
  switch (scope) {
    case Scope::kGlobal: return global_.gross_notional;
    case Scope::kVenue: return id < venues_.size() ? venues_[id].gross_notional : 0;
    case Scope::kInstrument:
      return id < instruments_.size() ? instruments_[id].gross_notional : 0;
  }
  return 0;
}

// ---- trading states and loss limits ----

void RiskEngine::collect_cancels(Scope scope, std::uint32_t id, std::vector<std::uint64_t>& cancels) const {
  for (std::uint32_t n = 0; n < instruments_.size(); ++n) {
    const InstrumentState& ins = instruments_[n];
    if ((scope == Scope::kVenue && ins.venue != id) || (scope == Scope::kInstrument && n != id)) continue;
    for (std::uint32_t s = ins.head; s != kNil; s = orders_[s].next) cancels.push_back(orders_[s].id);
  }
}

OrderError RiskEngine::try_set_state(Scope scope, std::uint32_t id, TradingState state,
                                     std::vector<std::uint64_t>& cancels) {
  switch (scope) {
    case Scope::kGlobal: global_.state = state; break;
    case Scope::kVenue:
      if (id >= venues_.size()) return OrderError::kBadScope;
      venues_[id].state = state;
      break;
    case Scope::kInstrument:
      if (id >= instruments_.size()) return OrderError::kUnknownInstrument;
      instruments_[id].state = state;
      break;
  }
  if (state == TradingState::kHalted) collect_cancels(scope, id, cancels);
  return OrderError::kOk;
}

TradingState RiskEngine::state(Scope scope, std::uint32_t id) const noexcept {
  switch (scope) {
    case Scope::kGlobal: return global_.state;
    case Scope::kVenue: return id < venues_.size() ? venues_[id].state : TradingState::kHalted;
    case Scope::kInstrument: return id < instruments_.size() ? instruments_[id].state : TradingState::kHalted;
  }
  return TradingState::kHalted;
}

TradingState RiskEngine::loss_state(Scope scope, std::uint32_t id) const noexcept {
  if (scope == Scope::kGlobal) return global_.loss;
  if (scope == Scope::kVenue && id < venues_.size()) return venues_[id].loss;
  return TradingState::kActive;
}

TradingState RiskEngine::effective_state(std::uint32_t instrument_id) const noexcept {
  if (instrument_id >= instruments_.size()) return TradingState::kHalted;
  const InstrumentState& ins = instruments_[instrument_id];
  const VenueState& venue = venues_[ins.venue];
  return most_restrictive(most_restrictive(global_.state, global_.loss),
                          most_restrictive(most_restrictive(venue.state, venue.loss), ins.state));
}

TradingState RiskEngine::loss_level(const ScopeLimits& l, std::int64_t pnl, std::int64_t peak) noexcept {
  const __int128 drawdown = static_cast<__int128>(peak) - pnl;
  const auto loss_at = [pnl](std::int64_t limit) { return limit != 0 && pnl <= -limit; };
  const auto drawdown_at = [drawdown](std::int64_t limit) { return limit != 0 && drawdown >= limit; };
  if (loss_at(l.daily_loss_halt) || drawdown_at(l.drawdown_halt)) return TradingState::kHalted;
  if (loss_at(l.daily_loss_reduce) || drawdown_at(l.drawdown_reduce)) return TradingState::kReduceOnly;
  return TradingState::kActive;
}

OrderError RiskEngine::try_update_pnl(Scope scope, std::uint32_t id, std::int64_t day_pnl,
                                      std::vector<std::uint64_t>& cancels) {
  if (scope == Scope::kInstrument || (scope == Scope::kVenue && id >= venues_.size())) return OrderError::kBadScope;
  VenueState& s = scope == Scope::kGlobal ? global_ : venues_[id];
  s.peak_pnl = std::max(s.peak_pnl, day_pnl);
  const TradingState level = loss_level(s.limits, day_pnl, s.peak_pnl);
  // Latches: a recovery within the day does not re-open trading; reset_day() does.
  if (level > s.loss) {
    s.loss = level;
    if (level == TradingState::kHalted) collect_cancels(scope, id, cancels);
  }
  return OrderError::kOk;
}

void RiskEngine::reset_day() noexcept {
  global_.peak_pnl = 0;
  global_.loss = TradingState::kActive;
  for (VenueState& v : venues_) {
    v.peak_pnl = 0;
    v.loss = TradingState::kActive;
  }
}

}  // namespace fastcore::risk
