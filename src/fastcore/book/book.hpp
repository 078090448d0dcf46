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

class Book {
 public:
  /// Default per-side cap: deeper than any venue's snapshot (Binance: 1,000; Bybit: 500) with room
  /// for the levels diffs add below the snapshot's depth.
  static constexpr std::uint32_t kDefaultMaxLevels = 5000;

  explicit Book(std::uint32_t max_levels_per_side = kDefaultMaxLevels)
      : sides_{BookSide(true, max_levels_per_side), BookSide(false, max_levels_per_side)} {}

  /// Applies one event. Cost: one set_level() for deltas and snapshot levels, O(1) otherwise.
  [[nodiscard]] ApplyError try_apply(const Event& event) noexcept {
    switch (event.kind) {
      case EventKind::kDelta:
      case EventKind::kSnapshotLevel: {
        if (event.qty_lots < 0) return ApplyError::kNegativeQty;
        if (event.px_ticks == std::numeric_limits<std::int64_t>::min()) return ApplyError::kBadPrice;
        BookSide* side = side_ptr(event.side);
        if (side == nullptr) return ApplyError::kBadSide;
        side->set_level(event.px_ticks, event.qty_lots);
        break;
      }
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
    seq_ = event.seq;
    ts_exchange_ns_ = event.ts_exchange_ns;
    ts_local_ns_ = event.ts_local_ns;
    ++updates_;
    return ApplyError::kOk;
  }

  /// Sets one level directly (the per-call path); same rules as a kDelta event.
  [[nodiscard]] ApplyError try_set_level(Side side, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
    if (qty_lots < 0) return ApplyError::kNegativeQty;
    if (px_ticks == std::numeric_limits<std::int64_t>::min()) return ApplyError::kBadPrice;
    BookSide* book_side = side_ptr(side);
    if (book_side == nullptr) return ApplyError::kBadSide;
    book_side->set_level(px_ticks, qty_lots);
    ++updates_;
    return ApplyError::kOk;
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
  // Indexing by the side's value avoids a data-dependent branch per update.
  BookSide* side_ptr(Side s) noexcept {
    const auto index = static_cast<std::uint8_t>(s);
    return index < 2 ? &sides_[index] : nullptr;
  }

  BookSide sides_[2];  // [kBid, kAsk]
  std::uint64_t seq_ = 0;
  std::int64_t ts_exchange_ns_ = 0;
  std::int64_t ts_local_ns_ = 0;
  std::uint64_t updates_ = 0;
};

}  // namespace fastcore::book
