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
  /// Default remembered fill ids per venue (192 KB per venue, so the duplicate check stays in L2): more
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
  /// Cost: a hash probe and an O(1) position update; no allocation.
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
    seen.prefetch_eviction();
    const FillKey key = seen.key(fill.trade_id, fill.instrument_id);
    bool duplicate = false;
    const std::size_t slot = seen.find(key, duplicate);
    if (duplicate) {
      ++duplicates_;
      return PositionError::kDuplicate;
    }
    Position& position = entry.position;
    Position::Next next{};
    if (const PositionError error = position.try_prepare(fill.side, fill.px_ticks, fill.qty_lots, next);
        error != PositionError::kOk) {
      return error;
    }
    seen.insert_at(slot, key);
    position.commit(next, fill.fee_units, fill.liquidity);
    return PositionError::kOk;
  }

  /// Starts loading what try_apply_fill of a fill of `instrument_id` with `trade_id` reads: the position,
  /// the instrument's venue and flags, and the duplicate check's first slot. No effect on the contents;
  /// an unknown id is ignored. Cost: a few prefetches (the slot's address waits for the venue id).
  void prefetch_fill(std::uint32_t instrument_id, std::uint64_t trade_id) const noexcept {
    if (instrument_id >= entries_.size()) return;
    const Entry& entry = entries_[instrument_id];
    __builtin_prefetch(&entry, 1);
    __builtin_prefetch(reinterpret_cast<const char*>(&entry) + 64, 1);  // an Entry is two lines
    const RecentIds& seen = seen_[entry.venue_id];
    seen.prefetch(seen.key(trade_id, instrument_id));
  }

  /// Starts loading the position of `instrument_id` (what a mark change's P&L reads). No effect on the
  /// contents; an unknown id is ignored.
  void prefetch_position(std::uint32_t instrument_id) const noexcept {
    if (instrument_id >= entries_.size()) return;
    const auto* entry = reinterpret_cast<const char*>(&entries_[instrument_id]);
    __builtin_prefetch(entry);
    __builtin_prefetch(entry + 64);
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
  /// Position of `instrument_id` (< size(); unchecked, like std::vector::operator[]).
  [[nodiscard]] const Position& operator[](std::uint32_t instrument_id) const noexcept { return entries_[instrument_id].position; }
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

  /// What a fill reads and writes, and nothing else, in two aligned cache lines: the position plus the
  /// instrument's checks (copies of Meta's, fixed at try_init). Meta (money conversion, mark) stays apart.
  struct alignas(64) Entry {
    Position position;
    std::uint8_t venue_id = 0;
    bool allow_negative_price = false;
  };
  static_assert(sizeof(Entry) == 128, "a position and its fill checks take exactly two cache lines");

  std::vector<Entry> entries_;
  std::vector<Meta> meta_;
  std::vector<RecentIds> seen_;  ///< One per venue id.
  std::vector<std::string> venues_;
  std::int32_t scale_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace fastcore::position
