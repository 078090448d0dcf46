#pragma once
/// One instrument's position and P&L from its fills, in exact integers.
///
/// Money inside a Position is kept in "tick-lots" (px_ticks x qty_lots), the unit a fill produces
/// without any multiplication; one tick-lot is notional_factor() notional units of the instrument
/// (see common::Instrument). The open position's cost basis is an exact integer sum, never a rounded
/// average. Realized plus unrealized always equals the cash ledger (sum of signed fill notionals plus
/// the position at the mark) exactly; partial closes move the closed share of the basis from unrealized
/// to realized, rounded toward zero in tick-lots, and the remainder stays in the basis (so nothing is
/// lost and the split is exact again once the position is flat). Fees are kept apart, in notional units.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "fastcore/common/event.hpp"

namespace fastcore::position {

using common::Side;

/// Who provided the liquidity of a fill; maker fees are often negative (rebates).
enum class Liquidity : std::uint8_t { kMaker = 0, kTaker = 1 };

/// Why a fill or a query was refused. A refused fill leaves every position and total unchanged.
enum class PositionError : std::uint8_t {
  kOk = 0,
  kDuplicate,          ///< Same instrument and venue trade id already applied: counted once, ignored.
  kBadQty,             ///< qty_lots <= 0.
  kNegativePrice,      ///< px_ticks < 0 on an instrument that does not allow negative prices.
  kBadSide,            ///< side is neither kBid (buy) nor kAsk (sell).
  kBadLiquidity,       ///< liquidity is neither kMaker nor kTaker.
  kUnknownInstrument,  ///< instrument_id has no position in the book.
  kVenueMismatch,      ///< venue_id is not the instrument's venue.
  kMissingTradeId,     ///< trade_id == 0: without the venue's id a replayed fill cannot be recognised.
  kOverflow,           ///< The result would not fit its integer; nothing was changed.
  kNoMark,             ///< Unrealized P&L asked of an open position that has no mark price.
  kMixedQuote,         ///< Instruments with different quote currencies cannot share totals.
  kScaleTooLarge,      ///< An instrument's notional unit cannot be expressed in the book's unit in 128 bits.
  kTooManyVenues,      ///< More than 256 distinct venues (venue_id is one byte).
  kBadCapacity,        ///< Duplicate-detection capacity outside [1, 2^24].
};

/// Readable text for a PositionError (static storage, never null).
const char* describe(PositionError error) noexcept;

// 48 bytes, mirrored by rentrade.fills.FILL_DTYPE so a numpy array of fills is read in place.
struct Fill {
  std::int64_t ts_ns;           ///< Fill time, ns since the Unix epoch (bookkeeping only).
  std::int64_t px_ticks;        ///< Fill price in ticks of the instrument.
  std::int64_t qty_lots;        ///< Filled quantity in lots; > 0.
  std::int64_t fee_units;       ///< Fee in notional units of the instrument; negative is a rebate.
  std::uint64_t trade_id;       ///< Venue trade id; != 0. With the instrument it identifies the fill.
  std::uint32_t instrument_id;  ///< Index of the instrument in its PositionBook.
  Side side;                    ///< kBid = we bought, kAsk = we sold.
  Liquidity liquidity;
  std::uint8_t venue_id;        ///< Must be the instrument's venue id in its PositionBook.
  std::uint8_t reserved;        ///< Zero.
};

static_assert(sizeof(Fill) == 48 && alignof(Fill) == 8, "Fill is mirrored by rentrade.fills.FILL_DTYPE");
static_assert(offsetof(Fill, instrument_id) == 40 && offsetof(Fill, side) == 44 && offsetof(Fill, liquidity) == 45 &&
                  offsetof(Fill, venue_id) == 46 && offsetof(Fill, reserved) == 47,
              "Fill layout is mirrored by rentrade.fills.FILL_DTYPE");

/// Position, cost basis and P&L of one instrument, its money sums of type `Money`. Two instantiations:
/// Position (__int128 sums: cannot overflow in practice) and CompactPosition (std::int64_t sums: half the
/// size, so PositionBook keeps one with its fill checks in one cache line; it reports kOverflow where a
/// sum or product would leave 64 bits, and the book then continues that instrument as a Position). Where
/// CompactPosition succeeds both compute the same values. No allocation; try_apply() is O(1) with no
/// division unless the fill reduces the position by less than all of it.
template <typename Money>
class BasicPosition {
  static_assert(std::is_same_v<Money, std::int64_t> || std::is_same_v<Money, __int128>, "int64 or int128 money");
  static constexpr bool kNarrow = std::is_same_v<Money, std::int64_t>;
  // The narrow fill count is 32 bits, so the compact position is 52 bytes and leaves PositionBook room
  // for its fill checks and last trade id in the same line.
  using Count = std::conditional_t<kNarrow, std::uint32_t, std::uint64_t>;

 public:
  /// The candidate state after one fill, computed without touching the position (see try_prepare()).
  struct Next {
    std::int64_t net_lots;  ///< See net_lots().
    Money open_cost_tl;     ///< See open_cost_tl().
    Money realized_tl;      ///< See realized_tl().
    Money traded_tl;        ///< See traded_tl().
  };

  BasicPosition() = default;

  /// The same position with sums at least as wide (CompactPosition -> Position is exact).
  template <typename Other>
    requires(sizeof(Other) <= sizeof(Money))
  explicit BasicPosition(const BasicPosition<Other>& other) noexcept
      : net_lots_(other.net_lots_),
        open_cost_tl_(other.open_cost_tl_),
        realized_tl_(other.realized_tl_),
        traded_tl_(other.traded_tl_),
        maker_fee_units_(other.maker_fee_units_),
        taker_fee_units_(other.taker_fee_units_),
        fills_(other.fills_) {}

  /// Computes the state after buying (kBid) or selling `qty_lots` at `px_ticks`. Inputs must already be
  /// checked (qty_lots > 0, side valid); only overflow (of Money) is reported.
  [[nodiscard]] PositionError try_prepare(Side side, std::int64_t px_ticks, std::int64_t qty_lots,
                                          Next& out) const noexcept {
    Money fill_tl = 0;
    Money fill_abs = 0;
    if (!product(px_ticks, qty_lots, fill_tl) || !magnitude(fill_tl, fill_abs)) return PositionError::kOverflow;
    out.net_lots = net_lots_;
    out.open_cost_tl = open_cost_tl_;
    out.realized_tl = realized_tl_;
    if (__builtin_add_overflow(traded_tl_, fill_abs, &out.traded_tl)) return PositionError::kOverflow;
    const bool buy = side == Side::kBid;
    const bool increases = net_lots_ == 0 || (net_lots_ > 0) == buy;
    if (increases) {
      if (__builtin_add_overflow(out.open_cost_tl, fill_tl, &out.open_cost_tl)) return PositionError::kOverflow;
      const std::int64_t signed_qty = buy ? qty_lots : -qty_lots;
      if (__builtin_add_overflow(out.net_lots, signed_qty, &out.net_lots)) return PositionError::kOverflow;
      return PositionError::kOk;
    }
    // Reducing, closing or flipping. open_lots > 0 here; INT64_MIN cannot be negated.
    if (net_lots_ == std::numeric_limits<std::int64_t>::min()) return PositionError::kOverflow;
    const std::int64_t open_lots = net_lots_ > 0 ? net_lots_ : -net_lots_;
    const std::int64_t closed_lots = qty_lots < open_lots ? qty_lots : open_lots;
    const Money removed_cost = closed_lots == open_lots ? open_cost_tl_ : share_of_cost(closed_lots, open_lots);
    Money closed_value = 0;
    if (!product(px_ticks, closed_lots, closed_value)) return PositionError::kOverflow;
    // Long: sold at closed_value what cost removed_cost. Short: bought back at closed_value.
    Money pnl = 0;
    if (__builtin_sub_overflow(buy ? removed_cost : closed_value, buy ? closed_value : removed_cost, &pnl) ||
        __builtin_add_overflow(out.realized_tl, pnl, &out.realized_tl)) {
      return PositionError::kOverflow;
    }
    out.open_cost_tl = open_cost_tl_ - removed_cost;  // same sign as open_cost_tl_, smaller magnitude
    const std::int64_t opened_lots = qty_lots - closed_lots;
    if (opened_lots == 0) {
      out.net_lots = net_lots_ > 0 ? net_lots_ - closed_lots : net_lots_ + closed_lots;
      return PositionError::kOk;
    }
    // Flip: the rest opens a new position on the other side at this fill's price.
    if (!product(px_ticks, opened_lots, out.open_cost_tl)) return PositionError::kOverflow;
    out.net_lots = buy ? opened_lots : -opened_lots;
    return PositionError::kOk;
  }

  /// True when commit() can add `fee_units` to the `liquidity` fee sum and count one more fill without
  /// overflow (always for 128-bit sums: int64 fees cannot overflow them in fewer than 2^63 fills).
  [[nodiscard]] bool commit_fits(std::int64_t fee_units, Liquidity liquidity) const noexcept {
    if constexpr (kNarrow) {
      Money sum = 0;
      return fills_ != std::numeric_limits<Count>::max() &&
             !__builtin_add_overflow(liquidity == Liquidity::kMaker ? maker_fee_units_ : taker_fee_units_, fee_units,
                                     &sum);
    } else {
      return true;
    }
  }

  /// Installs a state from try_prepare(); `fee_units` in notional units (commit_fits() must hold).
  void commit(const Next& next, std::int64_t fee_units, Liquidity liquidity) noexcept {
    net_lots_ = next.net_lots;
    open_cost_tl_ = next.open_cost_tl;
    realized_tl_ = next.realized_tl;
    traded_tl_ = next.traded_tl;
    (liquidity == Liquidity::kMaker ? maker_fee_units_ : taker_fee_units_) += fee_units;
    ++fills_;
  }

  /// Applies one fill (no duplicate check: PositionBook does that). Cost: a few adds; one division only
  /// for a partial close.
  [[nodiscard]] PositionError try_apply(Side side, std::int64_t px_ticks, std::int64_t qty_lots,
                                        std::int64_t fee_units, Liquidity liquidity) noexcept {
    if (qty_lots <= 0) return PositionError::kBadQty;
    if (side != Side::kBid && side != Side::kAsk) return PositionError::kBadSide;
    if (liquidity != Liquidity::kMaker && liquidity != Liquidity::kTaker) return PositionError::kBadLiquidity;
    Next next{};
    if (const PositionError error = try_prepare(side, px_ticks, qty_lots, next); error != PositionError::kOk) {
      return error;
    }
    if (!commit_fits(fee_units, liquidity)) return PositionError::kOverflow;
    commit(next, fee_units, liquidity);
    return PositionError::kOk;
  }

  /// Net position in lots: > 0 long, < 0 short.
  [[nodiscard]] std::int64_t net_lots() const noexcept { return net_lots_; }
  /// Exact cost of the open lots in tick-lots (sum of px_ticks x qty_lots, less closed shares); 0 when flat.
  [[nodiscard]] Money open_cost_tl() const noexcept { return open_cost_tl_; }
  /// Realized P&L before fees, tick-lots.
  [[nodiscard]] Money realized_tl() const noexcept { return realized_tl_; }
  /// Gross traded notional (sum of |px_ticks x qty_lots|), tick-lots.
  [[nodiscard]] Money traded_tl() const noexcept { return traded_tl_; }
  /// Fees paid as maker (negative = rebates earned), notional units.
  [[nodiscard]] Money maker_fee_units() const noexcept { return maker_fee_units_; }
  /// Fees paid as taker, notional units.
  [[nodiscard]] Money taker_fee_units() const noexcept { return taker_fee_units_; }
  /// Fills applied.
  [[nodiscard]] std::uint64_t fills() const noexcept { return fills_; }
  /// Average entry price in ticks, for display only (rounded by the double); 0.0 when flat.
  [[nodiscard]] double avg_entry_px_ticks() const noexcept {
    if (net_lots_ == 0) return 0.0;
    const double lots = static_cast<double>(net_lots_);
    return static_cast<double>(open_cost_tl_) / (lots < 0 ? -lots : lots);
  }

  /// Unrealized P&L in tick-lots if the open position were closed at `mark_px_ticks` (0 when flat).
  [[nodiscard]] PositionError try_unrealized_tl(std::int64_t mark_px_ticks, __int128& out) const noexcept {
    const __int128 value = static_cast<__int128>(mark_px_ticks) * net_lots_;  // signed: short is negative
    const __int128 open_cost = open_cost_tl_;
    const __int128 cost = net_lots_ >= 0 ? open_cost : -open_cost;
    return __builtin_sub_overflow(value, cost, &out) ? PositionError::kOverflow : PositionError::kOk;
  }

 private:
  template <typename Other>
  friend class BasicPosition;

  /// a x b in Money; false when it does not fit (never for 128 bits: |a x b| < 2^126).
  [[nodiscard]] static bool product(std::int64_t a, std::int64_t b, Money& out) noexcept {
    if constexpr (kNarrow) {
      return !__builtin_mul_overflow(a, b, &out);
    } else {
      out = static_cast<__int128>(a) * b;
      return true;
    }
  }

  /// |value| in Money; false when it does not fit (only the narrow minimum, -2^63).
  [[nodiscard]] static bool magnitude(Money value, Money& out) noexcept {
    if constexpr (kNarrow) {
      if (value == std::numeric_limits<std::int64_t>::min()) return false;
    }
    out = value < 0 ? -value : value;
    return true;
  }

  /// open_cost * closed / open rounded toward zero (closed < open), exactly and without overflow.
  [[nodiscard]] Money share_of_cost(std::int64_t closed_lots, std::int64_t open_lots) const noexcept {
    const bool negative = open_cost_tl_ < 0;
    if constexpr (kNarrow) {
      // |cost| <= 2^63 as an unsigned (no negation overflow); the quotient is below it, so it fits.
      const std::uint64_t cost = static_cast<std::uint64_t>(open_cost_tl_);
      const std::uint64_t size = negative ? 0 - cost : cost;
      const std::uint64_t quotient = divide_128_by_64(static_cast<unsigned __int128>(size) * static_cast<std::uint64_t>(closed_lots),
                                                      static_cast<std::uint64_t>(open_lots));
      return negative ? -static_cast<Money>(quotient) : static_cast<Money>(quotient);
    } else {
      constexpr __int128 kUint64Max = std::numeric_limits<std::uint64_t>::max();
      const __int128 size = negative ? -open_cost_tl_ : open_cost_tl_;
      if (size <= kUint64Max) {
        // Common case: |cost| x closed < 2^127 and the quotient is below |cost| (closed < open), so one
        // 128-by-64-bit divide does it exactly, instead of the 128-bit library call.
        const unsigned __int128 product =
            static_cast<unsigned __int128>(size) * static_cast<std::uint64_t>(closed_lots);
        const std::uint64_t quotient = divide_128_by_64(product, static_cast<std::uint64_t>(open_lots));
        return negative ? -static_cast<__int128>(quotient) : static_cast<__int128>(quotient);
      }
      // |whole| <= |cost| / open and closed < open, so |whole * closed| < |cost|: no overflow.
      const __int128 whole = open_cost_tl_ / open_lots;
      const __int128 rest = open_cost_tl_ % open_lots;
      return whole * closed_lots + rest * closed_lots / open_lots;
    }
  }

  /// floor(dividend / divisor); the caller guarantees the quotient fits in 64 bits.
  [[nodiscard]] static std::uint64_t divide_128_by_64(unsigned __int128 dividend, std::uint64_t divisor) noexcept {
#if defined(__x86_64__)
    // x86-64 `div` divides rdx:rax by a 64-bit operand in one instruction; compilers only emit the
    // library call for a 128-bit dividend. Safe: the quotient fits (checked by the caller).
    std::uint64_t quotient = 0;
    std::uint64_t remainder = 0;
    __asm__("divq %[divisor]"
            : "=a"(quotient), "=d"(remainder)
            : [divisor] "r"(divisor), "a"(static_cast<std::uint64_t>(dividend)),
              "d"(static_cast<std::uint64_t>(dividend >> 64)));
    return quotient;
#else
    return static_cast<std::uint64_t>(dividend / divisor);
#endif
  }

  std::int64_t net_lots_ = 0;
  Money open_cost_tl_ = 0;
  Money realized_tl_ = 0;
  Money traded_tl_ = 0;
  Money maker_fee_units_ = 0;
  Money taker_fee_units_ = 0;
  Count fills_ = 0;
};

/// Position with 128-bit money sums: the one to use on its own.
using Position = BasicPosition<__int128>;
/// Position with 64-bit money sums and a 32-bit fill count (52 bytes and padding), for PositionBook's
/// one-line entries.
using CompactPosition = BasicPosition<std::int64_t>;

}  // namespace fastcore::position
