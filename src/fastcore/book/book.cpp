#include "fastcore/book/book.hpp"

namespace fastcore::book {

common::BlockPool& BookSide::storage_pool() {
  // Leaked on purpose (see the declaration): constructed on first use, reachable through this pointer.
  // Chunks of 8 MiB: ~120 sides each, so 1,000 books take 17 chunks.
  static common::BlockPool* const pool =
      new common::BlockPool(kAllocationBytes, alignof(Storage), 4 * common::kHugePageSize);
  return *pool;
}
namespace {

using i128 = __int128;

/// Basis points are passed as bps x 10^4 so fractional bps stay integers: 10^4 bps == 10^8.
constexpr i128 kWhole = 100'000'000;

[[nodiscard]] bool checked_mul(i128 a, i128 b, i128& out) noexcept { return !__builtin_mul_overflow(a, b, &out); }
[[nodiscard]] bool checked_add(i128 a, i128 b, i128& out) noexcept { return !__builtin_add_overflow(a, b, &out); }

}  // namespace

const char* describe(ApplyError error) noexcept {
  switch (error) {
    case ApplyError::kOk: return "ok";
    case ApplyError::kNegativeQty: return "negative quantity";
    case ApplyError::kBadPrice: return "price out of range";
    case ApplyError::kBadSide: return "side is neither bid (0) nor ask (1)";
    case ApplyError::kUnknownKind: return "unknown event kind";
    case ApplyError::kUnknownBook: return "instrument_id has no book";
  }
  return "unknown apply error";
}

ApplyError Book::apply_other(const Event& event) noexcept {
  switch (event.kind) {
    case EventKind::kSnapshotLevel:
    case EventKind::kDelta: {
      const ApplyError error = check_level(event.side, event.px_ticks, event.qty_lots);
      if (error != ApplyError::kOk) return error;
      set_valid(event);  // valid after all (callers send only what failed a fast test)
      break;
    }
    case EventKind::kClear:
      sides_[0].clear();
      sides_[1].clear();
      break;
    case EventKind::kTrade:
    case EventKind::kBbo:
    case EventKind::kNone:
      return ApplyError::kOk;
    default:
      return ApplyError::kUnknownKind;
  }
  record(event);
  ++updates_;
  return ApplyError::kOk;
}

std::optional<double> Book::mid_ticks() const noexcept {
  if (sides_[0].empty() || sides_[1].empty()) return std::nullopt;
  // Sum in 128 bits: two large int64 prices would overflow before halving.
  const i128 sum = static_cast<i128>(sides_[0].best().px_ticks) + sides_[1].best().px_ticks;
  return static_cast<double>(sum) / 2.0;
}

std::optional<std::int64_t> Book::spread_ticks() const noexcept {
  if (sides_[0].empty() || sides_[1].empty()) return std::nullopt;
  i128 spread = static_cast<i128>(sides_[1].best().px_ticks) - sides_[0].best().px_ticks;
  if (spread > std::numeric_limits<std::int64_t>::max() || spread < std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(spread);
}

std::optional<double> Book::microprice_ticks() const noexcept {
  if (sides_[0].empty() || sides_[1].empty()) return std::nullopt;
  const Level bid = sides_[0].best();
  const Level ask = sides_[1].best();
  const double bid_qty = static_cast<double>(bid.qty_lots);
  const double ask_qty = static_cast<double>(ask.qty_lots);
  return (static_cast<double>(bid.px_ticks) * ask_qty + static_cast<double>(ask.px_ticks) * bid_qty) /
         (bid_qty + ask_qty);
}

QueryError Book::try_depth_notional(std::int64_t bps_e4, bool bids, bool asks, __int128& out) const noexcept {
  if (bps_e4 < 0) return QueryError::kBadArgument;
  if (sides_[0].empty() || sides_[1].empty()) return QueryError::kEmptySide;
  // Compare px * 2 * kWhole against (bid + ask) * (kWhole -+ bps): mid is never rounded.
  const i128 two_mid = static_cast<i128>(sides_[0].best().px_ticks) + sides_[1].best().px_ticks;
  i128 bid_floor = 0;
  i128 ask_ceiling = 0;
  if (!checked_mul(two_mid, kWhole - bps_e4, bid_floor) || !checked_mul(two_mid, kWhole + bps_e4, ask_ceiling)) {
    return QueryError::kOverflow;
  }
  i128 total = 0;
  const auto accumulate = [&](const BookSide& book_side, bool is_bid) -> bool {
    bool ok = true;
    book_side.for_each_level([&](Level level) {
      const i128 scaled = static_cast<i128>(level.px_ticks) * 2 * kWhole;
      if (is_bid ? scaled < bid_floor : scaled > ask_ceiling) return false;
      i128 notional = 0;
      ok = checked_mul(level.px_ticks, level.qty_lots, notional) && checked_add(total, notional, total);
      return ok;
    });
    return ok;
  };
  if ((bids && !accumulate(sides_[0], true)) || (asks && !accumulate(sides_[1], false))) return QueryError::kOverflow;
  out = total;
  return QueryError::kOk;
}

QueryError Book::try_impact(Side order_side, std::int64_t qty_lots, ImpactResult& out) const noexcept {
  if (qty_lots <= 0) return QueryError::kBadArgument;
  const BookSide& walk = order_side == Side::kBid ? sides_[1] : sides_[0];
  if (walk.empty()) return QueryError::kEmptySide;
  ImpactResult result;
  result.touch_px = walk.best().px_ticks;
  std::int64_t remaining = qty_lots;
  bool ok = true;
  walk.for_each_level([&](Level level) {
    const std::int64_t take = level.qty_lots < remaining ? level.qty_lots : remaining;
    i128 notional = 0;
    ok = checked_mul(level.px_ticks, take, notional) && checked_add(result.notional, notional, result.notional);
    if (!ok) return false;
    remaining -= take;
    result.filled_lots += take;
    result.worst_px = level.px_ticks;
    ++result.levels;
    return remaining > 0;
  });
  if (!ok) return QueryError::kOverflow;
  out = result;
  return QueryError::kOk;
}

QueryError Book::try_max_qty_within(Side order_side, std::int64_t bps_e4, std::int64_t& out_lots) const noexcept {
  if (bps_e4 < 0) return QueryError::kBadArgument;
  const BookSide& walk = order_side == Side::kBid ? sides_[1] : sides_[0];
  if (walk.empty()) return QueryError::kEmptySide;
  const bool buying = order_side == Side::kBid;
  // The average price A of Q lots stays within the band when A * kWhole <= limit (buy) or >= (sell).
  i128 limit = 0;
  if (!checked_mul(walk.best().px_ticks, buying ? kWhole + bps_e4 : kWhole - bps_e4, limit)) {
    return QueryError::kOverflow;
  }
  i128 filled = 0;
  i128 notional = 0;
  bool ok = true;
  walk.for_each_level([&](Level level) {
    const i128 scaled = static_cast<i128>(level.px_ticks) * kWhole;
    if (buying ? scaled <= limit : scaled >= limit) {
      // A level inside the band keeps the average inside it: take it whole.
      i128 level_notional = 0;
      ok = checked_mul(level.px_ticks, level.qty_lots, level_notional) &&
           checked_add(notional, level_notional, notional) && checked_add(filled, level.qty_lots, filled);
      return ok;
    }
    // First level outside the band: take the largest q with (notional + px q) kWhole <= limit (filled + q)
    // (mirrored for sells). Deeper levels are worse still, so the walk ends here.
    i128 limit_filled = 0;
    i128 scaled_notional = 0;
    ok = checked_mul(limit, filled, limit_filled) && checked_mul(notional, kWhole, scaled_notional);
    if (!ok) return false;
    const i128 slack = buying ? limit_filled - scaled_notional : scaled_notional - limit_filled;
    const i128 cost_per_lot = buying ? scaled - limit : limit - scaled;
    i128 partial = slack / cost_per_lot;
    if (partial > level.qty_lots) partial = level.qty_lots;
    filled += partial;
    return false;
  });
  if (!ok) return QueryError::kOverflow;
  if (filled > std::numeric_limits<std::int64_t>::max()) return QueryError::kOverflow;
  out_lots = static_cast<std::int64_t>(filled);
  return QueryError::kOk;
}

}  // namespace fastcore::book
