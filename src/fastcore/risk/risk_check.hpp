#pragma once
/// Pre-trade risk: every order is checked against its instrument's size, price and exposure limits,
/// per-instrument and per-venue throttles, loss limits, trading states (the kill switch) and book health
/// before it is sent. try_check() is const, never allocates and returns the first reason to refuse; the
/// lifecycle calls (on_order_sent, on_ack, on_reject, on_fill, on_cancel) keep in-flight and resting
/// exposure in a fixed-capacity order table so an order counts against limits from the moment it is sent.
///
/// Money (notional, P&L, loss limits) is exact integer units of 10^-scale() of the quote currency, where
/// scale() is the largest notional_decimals() of the instruments; all instruments share one quote currency.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fastcore/common/event.hpp"
#include "fastcore/common/instrument.hpp"

namespace fastcore::risk {

/// Why an order was refused; kOk when it may be sent. Ordered roughly as try_check() tests them.
enum class RiskReason : std::uint8_t {
  kOk = 0,
  kUnknownInstrument,       ///< Instrument id was not configured.
  kGlobalHalted,            ///< Global trading state is HALTED.
  kVenueHalted,             ///< The venue's trading state is HALTED.
  kInstrumentHalted,        ///< The instrument's trading state is HALTED.
  kBadQty,                  ///< Quantity <= 0 lots.
  kBadPrice,                ///< Price <= 0 ticks.
  kQtyBelowMin,             ///< Below the minimum quantity.
  kQtyAboveMax,             ///< Above the maximum quantity per order.
  kNotLotMultiple,          ///< Quantity is not a multiple of the order-size step.
  kNotTickMultiple,         ///< Price is not a multiple of the price step.
  kNotionalBelowMin,        ///< Order notional below the minimum notional.
  kNotionalAboveMax,        ///< Order notional above the maximum order notional (or beyond 2^100 units).
  kGlobalReduceOnly,        ///< Global state is REDUCE_ONLY and the order does not reduce the position.
  kVenueReduceOnly,         ///< The venue is REDUCE_ONLY and the order does not reduce the position.
  kInstrumentReduceOnly,    ///< The instrument is REDUCE_ONLY and the order does not reduce the position.
  kReduceOnlyWouldIncrease, ///< The order's reduce-only flag is set but it does not reduce the position.
  kBookStale,               ///< The book has not updated within the staleness threshold.
  kBookCrossed,             ///< Best bid at or above best ask.
  kBookResyncing,           ///< The book is being resynchronised with the venue.
  kNoReferencePrice,        ///< A collar is configured but there is no mid (or last trade) to apply it to.
  kOutsideCollarMid,        ///< Price too far from mid.
  kOutsideCollarLast,       ///< Price too far from the last trade.
  kSelfTrade,               ///< Would trade against one of our own working orders.
  kMaxLongPosition,         ///< Net + working buys + this order above the long limit.
  kMaxShortPosition,        ///< Net - working sells - this order below the short limit.
  kTooManyOpenOrders,       ///< Open orders on the instrument at the limit.
  kInstrumentGrossNotional, ///< Instrument gross notional (position + working orders) above its limit.
  kVenueGrossNotional,      ///< Venue gross notional above its limit.
  kTotalGrossNotional,      ///< Total gross notional above the global limit.
  kInstrumentThrottled,     ///< Instrument order-rate token bucket empty.
  kVenueThrottled,          ///< Venue order-rate token bucket empty.
  kOrderTableFull,          ///< No free slot in the working-order table.
  kDuplicateOrderId,        ///< try_submit only: an order with this id is already working.
};
/// Number of RiskReason values (for tables and bindings).
inline constexpr int kRiskReasonCount = static_cast<int>(RiskReason::kDuplicateOrderId) + 1;

/// Readable text for a RiskReason (static storage, never null).
const char* describe(RiskReason reason) noexcept;

/// Why a lifecycle call was refused (nothing changes when it is).
enum class OrderError : std::uint8_t {
  kOk = 0,
  kUnknownInstrument,  ///< Instrument id was not configured.
  kUnknownOrder,       ///< No working order with this id.
  kDuplicateOrderId,   ///< An order with this id is already working.
  kTableFull,          ///< The working-order table is full.
  kBadQty,             ///< Quantity <= 0.
  kOverfill,           ///< Fill larger than the order's remaining quantity.
  kBadLimits,          ///< A limit is negative, a step is < 1, or a throttle has a rate without a burst.
  kBadScope,           ///< Unknown venue id, or a scope that does not take this call.
  kOverflow,           ///< Notional beyond 2^100 money units or a net position beyond int64.
};

/// Readable text for an OrderError (static storage, never null).
const char* describe(OrderError error) noexcept;

/// Trading state; a larger value is more restrictive and the effective state is the largest in scope.
enum class TradingState : std::uint8_t { kActive = 0, kReduceOnly = 1, kHalted = 2 };

/// Readable text for a TradingState (static storage, never null).
const char* describe(TradingState state) noexcept;

/// Level a trading state or a loss limit applies to.
enum class Scope : std::uint8_t { kGlobal = 0, kVenue = 1, kInstrument = 2 };

/// Orders per second with a burst; rate 0 disables the bucket.
struct Throttle {
  std::int64_t orders_per_s = 0;  ///< Refill rate; 0 = unlimited.
  std::int64_t burst = 1;         ///< Bucket capacity in orders (>= 1 when orders_per_s > 0).
};

/// Limits of one instrument. A limit of 0 means "no limit" unless stated.
struct InstrumentLimits {
  std::int64_t min_qty_lots = 0;            ///< Max of this and the instrument's min_qty_lots is enforced.
  std::int64_t max_qty_lots = 0;            ///< Per order.
  std::int64_t qty_step_lots = 1;           ///< Quantity must be a multiple (>= 1).
  std::int64_t px_step_ticks = 1;           ///< Price must be a multiple (>= 1).
  std::int64_t min_notional = 0;            ///< Money units; max of this and the instrument's minimum.
  std::int64_t max_order_notional = 0;      ///< Money units, per order.
  std::int64_t collar_mid_bps = 0;          ///< Max distance from mid, basis points.
  std::int64_t collar_last_bps = 0;         ///< Max distance from the last trade, basis points.
  std::int64_t max_long_lots = 0;           ///< Net + working buys; 0 = no limit.
  std::int64_t max_short_lots = 0;          ///< -(net - working sells), positive; 0 = no limit.
  std::int64_t max_open_orders = 0;         ///< Working orders (in flight + acked).
  std::int64_t max_gross_notional = 0;      ///< Money units: |position| at mark + working orders.
  std::int64_t stale_after_ns = 0;          ///< Book older than this vs the order's ts is stale; 0 = off.
  Throttle throttle;
};

/// Limits of a venue or of everything (global). 0 = no limit.
struct ScopeLimits {
  std::int64_t max_gross_notional = 0;  ///< Money units.
  std::int64_t daily_loss_reduce = 0;   ///< Day P&L <= -this moves the scope to REDUCE_ONLY (money, > 0).
  std::int64_t daily_loss_halt = 0;     ///< Day P&L <= -this moves the scope to HALTED.
  std::int64_t drawdown_reduce = 0;     ///< Peak day P&L - P&L >= this moves the scope to REDUCE_ONLY.
  std::int64_t drawdown_halt = 0;       ///< Peak day P&L - P&L >= this moves the scope to HALTED.
  Throttle throttle;                    ///< Venue scope only (ignored for global).
};

/// An order about to be sent.
struct OrderRequest {
  std::int64_t ts_ns = 0;  ///< Now: refills throttles and ages the book.
  std::int64_t px_ticks = 0;
  std::int64_t qty_lots = 0;
  std::uint32_t instrument_id = 0;
  common::Side side = common::Side::kBid;  ///< kBid = buy.
  bool reduce_only = false;
};

/// What the risk check needs of the market of one instrument; cheap to build from a Book.
struct MarketView {
  std::int64_t bid_px_ticks = 0;
  std::int64_t ask_px_ticks = 0;
  std::int64_t last_trade_px_ticks = 0;
  std::int64_t book_ts_local_ns = 0;  ///< Last book update (local clock).
  bool has_bid = false;
  bool has_ask = false;
  bool has_last_trade = false;
  bool crossed = false;
  bool resyncing = false;
};

/// Result of try_check: the reason and whether the order was judged to reduce the position.
struct RiskDecision {
  RiskReason reason = RiskReason::kOk;
  bool reduces = false;  ///< Order only reduces the net position (counting working same-side orders).
  [[nodiscard]] bool ok() const noexcept { return reason == RiskReason::kOk; }
};

/// Pre-trade risk for many instruments over a few venues. Single-threaded: one engine per strategy thread.
class RiskEngine {
 public:
  static constexpr std::uint32_t kMaxOrderCapacity = 1u << 22;

  /// Sets up instruments (venue names group them) and a working-order table of `order_capacity` slots.
  /// Allocates here only. Returns kBadLimits on an empty instrument list or a capacity outside 1..max.
  [[nodiscard]] OrderError try_init(std::span<const common::Instrument> instruments, std::uint32_t order_capacity);

  /// Money unit of every notional and P&L: 10^-scale() of the quote currency.
  [[nodiscard]] std::int32_t scale() const noexcept { return scale_; }
  /// Instruments configured.
  [[nodiscard]] std::uint32_t instrument_count() const noexcept { return static_cast<std::uint32_t>(instruments_.size()); }
  /// Venues configured (ids in order of first appearance).
  [[nodiscard]] const std::vector<std::string>& venues() const noexcept { return venue_names_; }
  /// Venue id of an instrument (id must be valid).
  [[nodiscard]] std::uint32_t venue_of(std::uint32_t instrument_id) const noexcept { return instruments_[instrument_id].venue; }

  /// Replaces the limits of one instrument (its token bucket starts full); refuses negative limits, steps < 1.
  [[nodiscard]] OrderError try_set_limits(std::uint32_t instrument_id, const InstrumentLimits& limits) noexcept;
  /// Replaces the limits of a venue (venue_id < venues().size()); its token bucket starts full.
  [[nodiscard]] OrderError try_set_venue_limits(std::uint32_t venue_id, const ScopeLimits& limits) noexcept;
  /// Replaces the global limits (throttle ignored).
  [[nodiscard]] OrderError try_set_global_limits(const ScopeLimits& limits) noexcept;
  /// Current limits of an instrument (id must be valid).
  [[nodiscard]] const InstrumentLimits& limits(std::uint32_t instrument_id) const noexcept {
    return instruments_[instrument_id].limits;
  }

  /// Checks one order against every limit without changing anything. Cost: tens of ns, no allocation.
  [[nodiscard]] RiskDecision try_check(const OrderRequest& request, const MarketView& market) const noexcept;

  /// Records an order as sent: it counts against position, open-order and gross limits from now on and
  /// takes a token from the instrument and venue buckets. `order_id` is ours (client order id), unique.
  /// Refused (kOverflow) beyond 2^100 money units; a table slot is used until reject, cancel or full fill.
  [[nodiscard]] OrderError on_order_sent(std::uint64_t order_id, const OrderRequest& request) noexcept;
  /// try_check, then on_order_sent when it passes; a working id is refused with kDuplicateOrderId.
  [[nodiscard]] RiskDecision try_submit(std::uint64_t order_id, const OrderRequest& request,
                                        const MarketView& market) noexcept;
  /// The venue accepted the order: it now rests (it already counted while in flight).
  [[nodiscard]] OrderError on_ack(std::uint64_t order_id) noexcept;
  /// The venue refused the order: its exposure is released.
  [[nodiscard]] OrderError on_reject(std::uint64_t order_id) noexcept;
  /// The order is cancelled (or expired): its remaining exposure is released.
  [[nodiscard]] OrderError on_cancel(std::uint64_t order_id) noexcept;
  /// A fill of `qty_lots` at `px_ticks`: moves exposure from the working order to the position. A fill of an
  /// order no longer working (racing its cancel) is kUnknownOrder: apply it with try_set_position.
  [[nodiscard]] OrderError on_fill(std::uint64_t order_id, std::int64_t px_ticks, std::int64_t qty_lots) noexcept;

  /// Sets a net position (e.g. at start-up from the venue) valued at `px_ticks`; kOverflow beyond 2^100 units.
  [[nodiscard]] OrderError try_set_position(std::uint32_t instrument_id, std::int64_t net_lots,
                                            std::int64_t px_ticks) noexcept;
  /// Revalues the position's gross notional at a new mark price (O(1)).
  [[nodiscard]] OrderError try_set_mark(std::uint32_t instrument_id, std::int64_t px_ticks) noexcept;

  /// Sets the manual trading state of a scope (id ignored for kGlobal). Moving to HALTED appends the ids of
  /// working orders in the scope to `cancels` (the caller sends the cancels). Allocates only in `cancels`.
  [[nodiscard]] OrderError try_set_state(Scope scope, std::uint32_t id, TradingState state,
                                         std::vector<std::uint64_t>& cancels);
  /// Manual state of a scope (without loss escalation).
  [[nodiscard]] TradingState state(Scope scope, std::uint32_t id) const noexcept;
  /// Most restrictive of manual and loss-driven states of global, the instrument's venue and the instrument.
  [[nodiscard]] TradingState effective_state(std::uint32_t instrument_id) const noexcept;
  /// Loss-driven state of the global scope or of a venue.
  [[nodiscard]] TradingState loss_state(Scope scope, std::uint32_t id) const noexcept;

  /// Feeds the day's P&L (realized + unrealized, money units) of the global scope or a venue. Tracks the
  /// peak; escalation to REDUCE_ONLY/HALTED latches until reset_day(). A new HALTED appends cancels.
  [[nodiscard]] OrderError try_update_pnl(Scope scope, std::uint32_t id, std::int64_t day_pnl,
                                          std::vector<std::uint64_t>& cancels);
  /// Starts a new day: peaks back to 0 and loss-driven states back to ACTIVE (manual states unchanged).
  void reset_day() noexcept;

  /// Working orders (in flight + acked).
  [[nodiscard]] std::uint32_t working_orders() const noexcept { return working_; }
  /// Working orders of one instrument.
  [[nodiscard]] std::uint32_t open_orders(std::uint32_t instrument_id) const noexcept { return instruments_[instrument_id].open_orders; }
  /// Net position in lots as seen by risk (fills applied through on_fill).
  [[nodiscard]] std::int64_t net_lots(std::uint32_t instrument_id) const noexcept { return instruments_[instrument_id].net_lots; }
  /// Working buy / sell lots of an instrument.
  [[nodiscard]] std::int64_t working_lots(std::uint32_t instrument_id, common::Side side) const noexcept {
    return side == common::Side::kBid ? instruments_[instrument_id].working_buy_lots : instruments_[instrument_id].working_sell_lots;
  }
  /// Gross notional (money units) of an instrument, a venue, or everything.
  [[nodiscard]] __int128 gross_notional(Scope scope, std::uint32_t id) const noexcept;
  /// Whether an order id is working, and acked (resting) when it is.
  [[nodiscard]] bool find_order(std::uint64_t order_id, bool& acked) const noexcept;

  /// Starts loading an instrument's state (every line: the check, the lifecycle calls and the mark read
  /// it) so its cache misses overlap the caller's other work. No effect on the contents; an unknown id
  /// is ignored. Cost: a few prefetch instructions.
  void prefetch_instrument(std::uint32_t instrument_id) const noexcept {
    if (instrument_id >= instruments_.size()) return;
    const auto* state = reinterpret_cast<const char*>(&instruments_[instrument_id]);
    for (std::size_t line = 0; line < sizeof(InstrumentState); line += 64) __builtin_prefetch(state + line, 1);
  }
  /// Starts loading the lines of an instrument's state that try_set_mark reads and writes (position
  /// value, gross notional, net and mark): 4 of its 6 lines. No effect on the contents; unknown id ignored.
  void prefetch_mark(std::uint32_t instrument_id) const noexcept {
    if (instrument_id >= instruments_.size()) return;
    const auto* state = reinterpret_cast<const char*>(&instruments_[instrument_id]);
    __builtin_prefetch(state + offsetof(InstrumentState, net_lots), 1);
    __builtin_prefetch(state + offsetof(InstrumentState, gross_notional), 1);
    __builtin_prefetch(state + offsetof(InstrumentState, position_notional), 1);
    __builtin_prefetch(state + offsetof(InstrumentState, mark_px_ticks), 1);
  }
  /// Starts loading the index slot where the lookup of `order_id` begins (its on_ack / on_fill / on_cancel).
  void prefetch_order(std::uint64_t order_id) const noexcept {
    if (!index_.empty()) __builtin_prefetch(&index_[mix(order_id) & index_mask_]);
  }

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;
  /// Fibonacci hashing: client order ids are often sequential, which linear probing alone would cluster.
  static std::uint64_t mix(std::uint64_t id) noexcept { return id * 0x9E3779B97F4A7C15ull; }

  /// Token bucket in integer nano-tokens: one order costs 10^9, rate r refills r per ns, so there is no
  /// rounding at any rate in orders/s.
  struct Bucket {
    std::int64_t level = 0;      ///< Nano-tokens at `ts_ns` (may go below 0 when sent without a check).
    std::int64_t ts_ns = 0;
    std::int64_t rate = 0;       ///< orders/s = nano-tokens per ns; 0 = unlimited.
    std::int64_t capacity = 0;   ///< burst x 10^9.
    [[nodiscard]] std::int64_t level_at(std::int64_t now_ns) const noexcept;
    /// level_at(now_ns) holds at least one order's tokens (no refill arithmetic when the level already does).
    [[nodiscard]] bool has_token(std::int64_t now_ns) const noexcept;
    void configure(const Throttle& throttle) noexcept;
  };

  /// Fields try_check reads come first and fit four cache lines (static_assert in the .cpp); the
  /// throttle configuration and bookkeeping only the lifecycle calls touch come after them.
  struct alignas(64) InstrumentState {
    std::int64_t min_qty_lots = 0;       ///< Effective: max(limit, instrument).
    std::int64_t min_notional = 0;       ///< Effective, money units.
    __int128 money_per_tick_lot = 1;     ///< px_ticks x qty_lots -> money units.
    std::int64_t net_lots = 0;
    std::int64_t working_buy_lots = 0;
    std::int64_t working_sell_lots = 0;
    std::int64_t money_per_tick_lot64 = 1;  ///< money_per_tick_lot when in 1..INT64_MAX, else 0 (128-bit path).
    __int128 gross_notional = 0;         ///< position_notional + working_notional.
    std::int64_t own_best_bid = 0;       ///< Highest working buy price (valid when own_bids > 0).
    std::int64_t own_best_ask = 0;       ///< Lowest working sell price (valid when own_asks > 0).
    std::uint32_t own_bids = 0;
    std::uint32_t own_asks = 0;
    std::uint32_t open_orders = 0;
    std::uint32_t venue = 0;
    TradingState state = TradingState::kActive;
    Bucket bucket;
    InstrumentLimits limits;             ///< Its trailing throttle is read only by try_set_limits.
    __int128 position_notional = 0;      ///< |net| x mark in money units.
    __int128 working_notional = 0;       ///< Sum of remaining qty x px of working orders, money units.
    std::int64_t instrument_min_qty_lots = 0;  ///< The instrument's own floor, kept to recompute the above.
    std::int64_t instrument_min_notional = 0;  ///< Money units.
    std::int64_t mark_px_ticks = 0;
    std::uint32_t head = kNil;           ///< First working order (intrusive list through the table).
  };
  static_assert(offsetof(InstrumentState, limits) + offsetof(InstrumentLimits, throttle) <= 256,
                "the fields try_check reads must stay within four cache lines");

  struct VenueState {
    ScopeLimits limits;
    __int128 gross_notional = 0;  ///< Money units: positions at mark + working orders in scope.
    std::int64_t peak_pnl = 0;
    TradingState state = TradingState::kActive;
    TradingState loss = TradingState::kActive;
    Bucket bucket;
  };

  struct Order {
    std::uint64_t id = 0;
    std::int64_t px_ticks = 0;
    std::int64_t remaining_lots = 0;
    std::uint32_t instrument = 0;
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;  ///< Next in the instrument's list, or next free slot.
    common::Side side = common::Side::kBid;
    bool acked = false;
  };

  [[nodiscard]] std::uint32_t find_slot(std::uint64_t order_id) const noexcept;
  void index_insert(std::uint64_t order_id, std::uint32_t slot) noexcept;
  void index_erase(std::uint64_t order_id) noexcept;
  void release(std::uint32_t slot) noexcept;
  void recompute_own_best(InstrumentState& ins, common::Side side) noexcept;
  void add_gross(InstrumentState& ins, __int128 delta) noexcept;
  void set_position_value(InstrumentState& ins, std::int64_t net_lots, std::int64_t mark_px_ticks,
                          __int128 value) noexcept;
  void collect_cancels(Scope scope, std::uint32_t id, std::vector<std::uint64_t>& cancels) const;
  [[nodiscard]] static TradingState loss_level(const ScopeLimits& limits, std::int64_t pnl, std::int64_t peak) noexcept;

  std::vector<InstrumentState> instruments_;
  std::vector<VenueState> venues_;
  std::vector<std::string> venue_names_;
  VenueState global_;
  std::vector<Order> orders_;
  std::vector<std::uint32_t> index_;  ///< Open addressing (linear probing) of order id -> slot; kNil = empty.
  std::uint64_t index_mask_ = 0;
  std::uint32_t free_head_ = kNil;
  std::uint32_t working_ = 0;
  std::int32_t scale_ = 0;
};

}  // namespace fastcore::risk
