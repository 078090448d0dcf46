#pragma once
/// L2 (price-level) order book for one instrument, in integer ticks and lots.
///
/// The book applies what it is told and reports what it sees: it never "repairs" a crossed book
/// (is_crossed() says so, and the risk layer refuses to trade on it). Memory is bounded by
/// max_levels per side; past the cap the worst levels go, never the top (dropped_levels() counts them).
#include <cstdint>
#include <limits>
#include <optional>

#include "fastcore/book/book_side.hpp"
#include "fastcore/common/event.hpp"

namespace fastcore::book {

using common::Event;
using common::EventKind;
using common::Side;

/// Why an event was refused. A refused event leaves the book unchanged.
enum class ApplyError : std::uint8_t {
  kOk = 0,
  kNegativeQty,   ///< qty_lots < 0.
  kBadPrice,      ///< px_ticks == INT64_MIN (has no negation, so no ask key).
  kBadSide,       ///< side is neither kBid nor kAsk.
  kUnknownKind,   ///< kind outside EventKind.
  kUnknownBook,   ///< instrument_id has no book (BookSet only).
};

/// Readable text for an ApplyError (static storage).
const char* describe(ApplyError error) noexcept;

/// Exact results of walking one side with a market order.
struct ImpactResult {
  std::int64_t filled_lots = 0;   ///< <= requested; less when the side runs out.
  __int128 notional = 0;          ///< Sum of px_ticks * qty_lots over the fills.
  std::int64_t touch_px = 0;      ///< Best price on the side walked (the slippage reference).
  std::int64_t worst_px = 0;      ///< Last price level touched.
  std::uint32_t levels = 0;       ///< Levels consumed, the last one possibly partly.
};

/// Why an analytics query could not answer.
enum class QueryError : std::uint8_t { kOk = 0, kEmptySide, kOverflow, kBadArgument };

// Cache-line aligned so a book's header is exactly two lines (see the fields).
class alignas(64) Book {
 public:
  /// Default per-side cap: deeper than any venue's snapshot (Binance: 1,000; Bybit: 500) with room
  /// for the levels diffs add below the snapshot's depth.
  static constexpr std::uint32_t kDefaultMaxLevels = 5000;

  explicit Book(std::uint32_t max_levels_per_side = kDefaultMaxLevels)
      : sides_{BookSide(true, max_levels_per_side), BookSide(false, max_levels_per_side)} {}

  /// Applies one event. Cost: one set_level() for deltas and snapshot levels, O(1) otherwise.
  // Always inlined: batch loops call it per event, and GCC otherwise keeps it out of line (a call
  // and register spills per ~5 ns update).
  [[nodiscard, gnu::always_inline]] ApplyError try_apply(const Event& event) noexcept {
    // Level updates are nearly every event: one range test (kSnapshotLevel = 2, kDelta = 3) in front
    // of the switch keeps them off the jump table's indirect branch.
    if (static_cast<unsigned>(event.kind) - 2U < 2U) [[likely]] {
      const ApplyError error = set_checked(event.side, event.px_ticks, event.qty_lots);
      if (error != ApplyError::kOk) [[unlikely]] return error;
    } else {
      switch (event.kind) {
        case EventKind::kClear:
          sides_[0].clear();
          sides_[1].clear();
          break;
        case EventKind::kTrade:
        case EventKind::kBbo:
        case EventKind::kNone:
          return ApplyError::kOk;  // not book state: no sequence or timestamp change
        default:
          return ApplyError::kUnknownKind;
      }
    }
    seq_ = event.seq;
    ts_exchange_ns_ = event.ts_exchange_ns;
    ts_local_ns_ = event.ts_local_ns;
    ++updates_;
    return ApplyError::kOk;
  }

  /// Sets one level directly (the per-call path); same rules as a kDelta event.
  [[nodiscard]] ApplyError try_set_level(Side side, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    const ApplyError error = set_checked(side, px_ticks, qty_lots);
    if (error == ApplyError::kOk) ++updates_;
    return error;
  }

  /// Hints the cache lines that applying `event` will touch, reading only this book's header (which
  /// the caller should have prefetched earlier). For batch loops that know their next events; a
  /// hint for an event that turns out to do nothing costs one wasted prefetch.
  void prefetch_for(const Event& event) const noexcept {
    const auto index = static_cast<std::uint8_t>(event.side) & 1U;  // any side value gives a valid address
    sides_[index].prefetch_key(BookSide::to_key(event.px_ticks, -static_cast<std::int64_t>(index)));
  }

  /// Hints the cache lines of both best levels (see BookSide::prefetch_best); reads only this header.
  void prefetch_top() const noexcept {
    sides_[0].prefetch_best();
    sides_[1].prefetch_best();
  }

  /// Empties both sides; sequence and timestamps are the caller's to set.
  void clear() noexcept {
    sides_[0].clear();
    sides_[1].clear();
  }

  void set_sequence(std::uint64_t seq) noexcept { seq_ = seq; }
  void set_timestamps(std::int64_t ts_exchange_ns, std::int64_t ts_local_ns) noexcept {
    ts_exchange_ns_ = ts_exchange_ns;
    ts_local_ns_ = ts_local_ns;
  }

  [[nodiscard]] const BookSide& side(Side s) const noexcept { return s == Side::kBid ? sides_[0] : sides_[1]; }
  [[nodiscard]] const BookSide& bids() const noexcept { return sides_[0]; }
  [[nodiscard]] const BookSide& asks() const noexcept { return sides_[1]; }

  /// Best level of a side, or nullopt when that side is empty.
  [[nodiscard]] std::optional<Level> best(Side s) const noexcept {
    const BookSide& book_side = side(s);
    if (book_side.empty()) return std::nullopt;
    return book_side.best();
  }

  /// True when both sides are non-empty and the best bid is at or above the best ask.
  [[nodiscard]] bool is_crossed() const noexcept {
    return !sides_[0].empty() && !sides_[1].empty() && sides_[0].best().px_ticks >= sides_[1].best().px_ticks;
  }

  /// Mid price in ticks, or nullopt unless both sides have a level.
  [[nodiscard]] std::optional<double> mid_ticks() const noexcept;
  /// Best ask minus best bid in ticks, or nullopt unless both sides have a level.
  [[nodiscard]] std::optional<std::int64_t> spread_ticks() const noexcept;
  /// Size-weighted mid (bid_px * ask_qty + ask_px * bid_qty) / (bid_qty + ask_qty), in ticks.
  [[nodiscard]] std::optional<double> microprice_ticks() const noexcept;

  /// Sum of px_ticks * qty_lots resting within +-bps_e4 / 10^8 of mid (bps_e4: basis points x 10^4),
  /// on the bid side, the ask side, or both. Exact; kEmptySide unless both sides have a level.
  [[nodiscard]] QueryError try_depth_notional(std::int64_t bps_e4, bool bids, bool asks,
                                              __int128& out) const noexcept;
  /// Walks the side a market order of `qty_lots` on `order_side` would take (kBid = buy, walks asks).
  [[nodiscard]] QueryError try_impact(Side order_side, std::int64_t qty_lots, ImpactResult& out) const noexcept;
  /// Largest quantity whose average fill price stays within bps_e4 / 10^8 of the touch.
  [[nodiscard]] QueryError try_max_qty_within(Side order_side, std::int64_t bps_e4,
                                              std::int64_t& out_lots) const noexcept;

  [[nodiscard]] std::uint64_t seq() const noexcept { return seq_; }
  [[nodiscard]] std::int64_t ts_exchange_ns() const noexcept { return ts_exchange_ns_; }
  [[nodiscard]] std::int64_t ts_local_ns() const noexcept { return ts_local_ns_; }
  /// Level-changing events applied since construction (clears included).
  [[nodiscard]] std::uint64_t updates() const noexcept { return updates_; }
  /// Levels dropped because a side was at its cap: the book below the kept depth is incomplete.
  [[nodiscard]] std::uint64_t dropped_levels() const noexcept { return sides_[0].dropped() + sides_[1].dropped(); }

 private:
  // The checks are folded into one rarely-taken branch; indexing by the side's value (and negating
  // asks by mask) avoids a data-dependent branch per update: sides alternate unpredictably.
  [[gnu::always_inline]] ApplyError set_checked(Side side, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    constexpr std::int64_t kNoKey = std::numeric_limits<std::int64_t>::min();  // has no negation
    const auto index = static_cast<std::uint8_t>(side);
    // Sign bit of qty, high bits of the side and the price test in one word: one test, one branch.
    if ((static_cast<std::uint64_t>(qty_lots) >> 63 | (index >> 1) | (px_ticks == kNoKey)) != 0) [[unlikely]] {
      return qty_lots < 0 ? ApplyError::kNegativeQty : px_ticks == kNoKey ? ApplyError::kBadPrice : ApplyError::kBadSide;
    }
    sides_[index].set_key(BookSide::to_key(px_ticks, -static_cast<std::int64_t>(index)), qty_lots);
    return ApplyError::kOk;
  }

  // Sequence fields first, then the 32-byte sides: an update touches the first line (and the second
  // for asks). 128 bytes per book, so a BookSet indexes by shift and 1,000 headers are 128 KiB.
  std::uint64_t seq_ = 0;
  std::int64_t ts_exchange_ns_ = 0;
  std::int64_t ts_local_ns_ = 0;
  std::uint64_t updates_ = 0;
  BookSide sides_[2];  // [kBid, kAsk]
};

static_assert(sizeof(Book) == 128, "Book's header must stay two cache lines");

}  // namespace fastcore::book
