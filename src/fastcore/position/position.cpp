#include "fastcore/position/position.hpp"

#include <algorithm>

#include "fastcore/position/position_book.hpp"

namespace fastcore::position {

const char* describe(PositionError error) noexcept {
  switch (error) {
    case PositionError::kOk: return "ok";
    case PositionError::kDuplicate: return "duplicate fill: this venue trade id was already applied";
    case PositionError::kBadQty: return "fill quantity must be > 0 lots";
    case PositionError::kNegativePrice: return "negative price on an instrument that does not allow it";
    case PositionError::kBadSide: return "side must be buy (BID) or sell (ASK)";
    case PositionError::kBadLiquidity: return "liquidity must be maker or taker";
    case PositionError::kUnknownInstrument: return "instrument id has no position in this book";
    case PositionError::kVenueMismatch: return "venue id is not the instrument's venue";
    case PositionError::kMissingTradeId: return "trade id 0: every fill needs its venue's trade id";
    case PositionError::kOverflow: return "result overflows the exact integer range; nothing was changed";
    case PositionError::kNoMark: return "open position has no mark price (set one first)";
    case PositionError::kMixedQuote: return "instruments in different quote currencies cannot share totals";
    case PositionError::kScaleTooLarge: return "instrument's notional unit cannot be converted to the book's unit";
    case PositionError::kTooManyVenues: return "more than 256 venues";
    case PositionError::kBadCapacity: return "duplicate-detection capacity must be between 1 and 2^24";
  }
  return "unknown position error";
}

namespace {

bool pow10(std::int32_t exponent, __int128& out) noexcept {
  out = 1;
  for (std::int32_t i = 0; i < exponent; ++i) {
    if (__builtin_mul_overflow(out, 10, &out)) return false;
  }
  return true;
}

}  // namespace

PositionError PositionBook::try_init(std::span<const common::Instrument> instruments,
                                     std::span<const std::string> quotes, std::uint32_t dedup_capacity) {
  if (dedup_capacity < 1 || dedup_capacity > kMaxDedupCapacity) return PositionError::kBadCapacity;
  if (!quotes.empty()) {
    if (quotes.size() != instruments.size()) return PositionError::kMixedQuote;
    for (const std::string& quote : quotes) {
      if (quote != quotes.front()) return PositionError::kMixedQuote;
    }
  }
  std::int32_t scale = 0;
  for (const common::Instrument& instrument : instruments) scale = std::max(scale, instrument.notional_decimals());
  std::vector<Meta> meta(instruments.size());
  std::vector<std::string> venues;
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const common::Instrument& instrument = instruments[i];
    Meta& m = meta[i];
    m.notional_factor = instrument.notional_factor();
    m.allow_negative_price = instrument.allow_negative_price;
    if (!pow10(scale - instrument.notional_decimals(), m.to_book)) return PositionError::kScaleTooLarge;
    const auto found = std::find(venues.begin(), venues.end(), instrument.venue);
    const auto venue_index = static_cast<std::size_t>(found - venues.begin());
    if (venue_index == venues.size()) {
      if (venues.size() == 256) return PositionError::kTooManyVenues;
      venues.push_back(instrument.venue);
    }
    m.venue_id = static_cast<std::uint8_t>(venue_index);
  }
  std::vector<RecentIds> seen;
  seen.reserve(venues.size());
  for (std::size_t v = 0; v < venues.size(); ++v) seen.emplace_back(dedup_capacity);
  std::vector<Entry> entries(instruments.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    entries[i].venue_id = meta[i].venue_id;
    entries[i].allow_negative_price = meta[i].allow_negative_price;
  }
  entries_ = std::move(entries);
  wide_.assign(instruments.size(), Position{});
  meta_ = std::move(meta);
  seen_ = std::move(seen);
  venues_ = std::move(venues);
  scale_ = scale;
  duplicates_ = 0;
  return PositionError::kOk;
}

PositionError PositionBook::apply_wide(const Fill& fill, Entry& entry, RecentIds& seen, const FillKey& key) noexcept {
  Position& position = wide_[fill.instrument_id];
  Position::Next next{};
  const Position current = entry.wide ? position : Position(entry.position);
  if (const PositionError error = current.try_prepare(fill.side, fill.px_ticks, fill.qty_lots, next);
      error != PositionError::kOk) {
    return error;  // beyond 128 bits as well: refused, and the instrument stays as it was
  }
  position = current;
  entry.wide = true;
  position.commit(next, fill.fee_units, fill.liquidity);
  remember(entry, seen, key);
  return PositionError::kOk;
}

PositionError PositionBook::try_to_notional(std::uint32_t instrument_id, __int128 tick_lots,
                                            __int128& out) const noexcept {
  if (instrument_id >= entries_.size()) return PositionError::kUnknownInstrument;
  return __builtin_mul_overflow(tick_lots, meta_[instrument_id].notional_factor, &out) ? PositionError::kOverflow
                                                                                        : PositionError::kOk;
}

PositionError PositionBook::try_to_book_units(std::uint32_t instrument_id, __int128 notional_units,
                                              __int128& out) const noexcept {
  if (instrument_id >= entries_.size()) return PositionError::kUnknownInstrument;
  return __builtin_mul_overflow(notional_units, meta_[instrument_id].to_book, &out) ? PositionError::kOverflow
                                                                                    : PositionError::kOk;
}

PositionError PositionBook::try_totals(int venue_id, Totals& out) const noexcept {
  Totals totals;
  const auto add = [](__int128& sum, __int128 value) { return !__builtin_add_overflow(sum, value, &sum); };
  for (std::uint32_t id = 0; id < entries_.size(); ++id) {
    const Meta& m = meta_[id];
    if (venue_id >= 0 && m.venue_id != venue_id) continue;
    const Position p = (*this)[id];
    __int128 realized = 0;
    __int128 traded = 0;
    __int128 maker = 0;
    __int128 taker = 0;
    if (try_to_notional(id, p.realized_tl(), realized) != PositionError::kOk ||
        try_to_book_units(id, realized, realized) != PositionError::kOk ||
        try_to_notional(id, p.traded_tl(), traded) != PositionError::kOk ||
        try_to_book_units(id, traded, traded) != PositionError::kOk ||
        try_to_book_units(id, p.maker_fee_units(), maker) != PositionError::kOk ||
        try_to_book_units(id, p.taker_fee_units(), taker) != PositionError::kOk) {
      return PositionError::kOverflow;
    }
    if (!add(totals.realized, realized) || !add(totals.traded, traded) || !add(totals.maker_fees, maker) ||
        !add(totals.taker_fees, taker)) {
      return PositionError::kOverflow;
    }
    totals.fills += p.fills();
    if (p.net_lots() == 0) continue;
    if (!m.has_mark) {
      ++totals.open_without_mark;
      continue;
    }
    __int128 unrealized = 0;
    if (p.try_unrealized_tl(m.mark_px_ticks, unrealized) != PositionError::kOk ||
        try_to_notional(id, unrealized, unrealized) != PositionError::kOk ||
        try_to_book_units(id, unrealized, unrealized) != PositionError::kOk || !add(totals.unrealized, unrealized)) {
      return PositionError::kOverflow;
    }
  }
  out = totals;
  return PositionError::kOk;
}

}  // namespace fastcore::position
