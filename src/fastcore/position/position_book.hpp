#pragma once
/// Positions of many instruments, indexed by instrument id, with duplicate-fill detection per venue and
/// P&L totals per venue and overall.
///
/// Totals rule: a book holds instruments of one quote currency only (try_init refuses a mix), and
/// totals are expressed in the book's unit, 10^-scale() of that currency, where scale() is the largest
/// notional_decimals() of its instruments. Every instrument's money converts to that unit exactly
/// (a multiplication by its notional factor times a power of ten), so totals are exact sums.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fastcore/common/instrument.hpp"
#include "fastcore/position/position.hpp"
#include "fastcore/position/recent_ids.hpp"

namespace fastcore::position {

/// Money summed over instruments, in the book's unit (10^-scale() of the quote currency).
struct Totals {
  __int128 realized = 0;         ///< Realized P&L before fees.
  __int128 maker_fees = 0;       ///< Negative when rebates exceed maker fees.
  __int128 taker_fees = 0;
  __int128 unrealized = 0;       ///< At each instrument's mark; open positions without a mark are left out.
  __int128 traded = 0;           ///< Gross traded notional.
  std::uint64_t fills = 0;
  std::uint32_t open_without_mark = 0;  ///< Open positions left out of `unrealized` for want of a mark.
};

class PositionBook {
 public:
  /// Default remembered fill ids per venue (256 KB per venue, of which a fill with a new id touches one
  /// ring line; see RecentIds): more
  /// than a full page of recent fills from any supported venue's REST reconciliation (Binance userTrades
  /// returns at most 1,000). A replay older than this many fills of its venue would not be recognised.
  static constexpr std::uint32_t kDefaultDedupCapacity = 4'096;
  static constexpr std::uint32_t kMaxDedupCapacity = 1U << 24;

  /// Sets up one flat position per instrument (ids are indexes into `instruments`). `quotes` names each
  /// instrument's quote currency, or is empty when the caller vouches they share one. Allocates.
  [[nodiscard]] PositionError try_init(std::span<const common::Instrument> instruments,
                                       std::span<const std::string> quotes,
                                       std::uint32_t dedup_capacity = kDefaultDedupCapacity);

  /// Applies one fill unless its (instrument, trade id) was seen: kDuplicate then, and nothing changes.
  /// Cost: one cache line of the instrument, an O(1) position update and a store to the venue's ring of
  /// recent ids; a hash lookup (RecentIds::contains) only for an id not above the instrument's largest.
  /// No allocation.
  [[nodiscard]] PositionError try_apply_fill(const Fill& fill) noexcept {
    if (fill.instrument_id >= entries_.size()) return PositionError::kUnknownInstrument;
    Entry& entry = entries_[fill.instrument_id];
    if (fill.venue_id != entry.venue_id) return PositionError::kVenueMismatch;
    if (fill.qty_lots <= 0) return PositionError::kBadQty;
    if (fill.px_ticks < 0 && !entry.allow_negative_price) return PositionError::kNegativePrice;
    if (fill.side != Side::kBid && fill.side != Side::kAsk) return PositionError::kBadSide;
    if (fill.liquidity != Liquidity::kMaker && fill.liquidity != Liquidity::kTaker) {
      return PositionError::kBadLiquidity;
    }
    if (fill.trade_id == 0) return PositionError::kMissingTradeId;
    RecentIds& seen = seen_[fill.venue_id];
    const FillKey key = seen.key(fill.trade_id, fill.instrument_id);
    // An id above every id this instrument has applied was never applied: no lookup. Venues number
    // trades per symbol in increasing order, so this is the common case; a replay (or an id from an
    // out-of-order source) takes the lookup.
    if (fill.trade_id <= entry.max_trade_id && seen.contains(key)) {
      ++duplicates_;
      return PositionError::kDuplicate;
    }
    if (!entry.wide) [[likely]] {
      CompactPosition& position = entry.position;
      CompactPosition::Next next{};
      if (position.try_prepare(fill.side, fill.px_ticks, fill.qty_lots, next) == PositionError::kOk &&
          position.commit_fits(fill.fee_units, fill.liquidity)) [[likely]] {
        position.commit(next, fill.fee_units, fill.liquidity);
        remember(entry, seen, key);
        return PositionError::kOk;
      }
    }
    return apply_wide(fill, entry, seen, key);
  }

  /// Starts loading what try_apply_fill of a fill of `instrument_id` reads: its one-line entry (position,
  /// venue, flags, largest trade id). The duplicate table is not prefetched: an id above the instrument's
  /// largest takes no lookup, and a lookup first brings its table up to date. No effect on the contents;
  /// an unknown id is ignored. Cost: one prefetch.
  void prefetch_fill(std::uint32_t instrument_id) const noexcept {
    if (instrument_id >= entries_.size()) return;
    __builtin_prefetch(&entries_[instrument_id], 1);  // an Entry is one line
  }

  /// Starts loading the position of `instrument_id` (what a mark change's P&L reads). No effect on the
  /// contents; an unknown id is ignored.
  void prefetch_position(std::uint32_t instrument_id) const noexcept {
    if (instrument_id >= entries_.size()) return;
    __builtin_prefetch(&entries_[instrument_id]);  // an Entry is one line
  }

  /// Sets the price unrealized P&L is measured at.
  [[nodiscard]] PositionError try_set_mark(std::uint32_t instrument_id, std::int64_t mark_px_ticks) noexcept {
    if (instrument_id >= entries_.size()) return PositionError::kUnknownInstrument;
    meta_[instrument_id].mark_px_ticks = mark_px_ticks;
    meta_[instrument_id].has_mark = true;
    return PositionError::kOk;
  }

  /// Sums over one venue's instruments (`venue_id` >= 0) or all of them (-1). Cost: O(instruments).
  [[nodiscard]] PositionError try_totals(int venue_id, Totals& out) const noexcept;

  /// Converts tick-lots of an instrument to its notional units (x notional_factor), checked.
  [[nodiscard]] PositionError try_to_notional(std::uint32_t instrument_id, __int128 tick_lots,
                                              __int128& out) const noexcept;
  /// Converts notional units of an instrument to the book's unit (x 10^(scale - its decimals)), checked.
  [[nodiscard]] PositionError try_to_book_units(std::uint32_t instrument_id, __int128 notional_units,
                                                __int128& out) const noexcept;

  /// Number of instruments (ids 0 .. size() - 1).
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  /// Position of `instrument_id` (< size(); unchecked, like std::vector::operator[]), a copy: the book
  /// keeps it in 64-bit sums while they fit (see Entry).
  [[nodiscard]] Position operator[](std::uint32_t instrument_id) const noexcept {
    const Entry& entry = entries_[instrument_id];
    return entry.wide ? wide_[instrument_id] : Position(entry.position);
  }
  /// Net lots of `instrument_id` (< size()): operator[]'s net_lots() without copying the position.
  [[nodiscard]] std::int64_t net_lots(std::uint32_t instrument_id) const noexcept {
    const Entry& entry = entries_[instrument_id];
    return entry.wide ? wide_[instrument_id].net_lots() : entry.position.net_lots();
  }
  /// True once a fill took a money sum of `instrument_id` (< size()) beyond 64 bits: its position is
  /// kept in 128 bits from then on (the same values; fills cost a little more).
  [[nodiscard]] bool wide(std::uint32_t instrument_id) const noexcept { return entries_[instrument_id].wide; }
  /// The venue id fills of `instrument_id` must carry (< size()).
  [[nodiscard]] std::uint8_t venue_of(std::uint32_t instrument_id) const noexcept { return meta_[instrument_id].venue_id; }
  /// Mark price of `instrument_id`, false when none was set.
  [[nodiscard]] bool mark(std::uint32_t instrument_id, std::int64_t& px_ticks) const noexcept {
    px_ticks = meta_[instrument_id].mark_px_ticks;
    return meta_[instrument_id].has_mark;
  }
  /// Distinct venue names in id order (venue id = index).
  [[nodiscard]] const std::vector<std::string>& venues() const noexcept { return venues_; }
  /// Decimals of the book's money unit.
  [[nodiscard]] std::int32_t scale() const noexcept { return scale_; }
  /// Fills refused as duplicates so far.
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }

 private:
  struct Meta {
    __int128 notional_factor = 1;   ///< Tick-lot -> notional units of the instrument.
    __int128 to_book = 1;           ///< Notional units -> book units: 10^(scale - notional_decimals).
    std::int64_t mark_px_ticks = 0;
    bool has_mark = false;
    bool allow_negative_price = false;
    std::uint8_t venue_id = 0;
  };

  /// What a fill reads and writes, and nothing else, in one aligned cache line: the position in 64-bit
  /// sums plus the instrument's checks (copies of Meta's, fixed at try_init). Meta (money conversion,
  /// mark) stays apart. Once a fill would take a sum beyond 64 bits the instrument is `wide`: its
  /// position moves to wide_ (128-bit sums, the same values) for good and `position` is no longer read.
  /// `max_trade_id` is the largest trade id applied to the instrument: a larger one needs no lookup.
  /// [[no_unique_address]] lets the flags use the compact position's tail padding (52 bytes used of 56).
  struct alignas(64) Entry {
    [[no_unique_address]] CompactPosition position;
    std::uint8_t venue_id = 0;
    bool allow_negative_price = false;
    bool wide = false;
    std::uint64_t max_trade_id = 0;
  };
  static_assert(sizeof(Entry) == 64, "a position and its fill checks take exactly one cache line");

  /// try_apply_fill's rest for a fill its compact position cannot take (a sum would leave 64 bits) or an
  /// instrument already wide: widens the position (exactly) if need be and applies the fill in 128 bits.
  [[nodiscard]] PositionError apply_wide(const Fill& fill, Entry& entry, RecentIds& seen, const FillKey& key) noexcept;

  /// Records an applied fill's id (in the venue's window and as the instrument's largest if it is).
  static void remember(Entry& entry, RecentIds& seen, const FillKey& key) noexcept {
    seen.push(key);
    if (key.trade_id > entry.max_trade_id) entry.max_trade_id = key.trade_id;
  }

  std::vector<Entry> entries_;
  std::vector<Position> wide_;  ///< Positions of wide instruments (see Entry), by instrument id.
  std::vector<Meta> meta_;
  std::vector<RecentIds> seen_;  ///< One per venue id.
  std::vector<std::string> venues_;
  std::int32_t scale_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace fastcore::position
