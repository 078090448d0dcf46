#pragma once
/// The two records that cross the boundary between the engine and a venue (real or simulated):
/// OrderIntent (engine -> venue: new, cancel, replace) and ExecutionReport (venue -> engine: ack, reject,
/// fill, cancelled). Both are plain 64-byte records so they are queued, recorded and viewed from numpy
/// like common::Event, and so the simulator, the live encoders and the engine agree on one shape.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "fastcore/common/event.hpp"

namespace fastcore::engine {

/// What an intent asks of the venue.
enum class IntentKind : std::uint8_t {
  kNew = 1,      ///< Place order `order_id`.
  kCancel = 2,   ///< Cancel order `order_id` (price and quantity ignored).
  kReplace = 3,  ///< Change the price and/or quantity of order `order_id` (keeps the id).
};

/// Order type; a market order ignores px_ticks except as the risk check's reference price.
enum class OrderType : std::uint8_t { kLimit = 0, kMarket = 1 };

/// Time in force.
enum class TimeInForce : std::uint8_t {
  kGtc = 0,       ///< Rests until filled or cancelled.
  kIoc = 1,       ///< Fills what it can at once, the rest is cancelled.
  kPostOnly = 2,  ///< Rejected if it would take liquidity.
};

// 64 bytes: one cache line per intent, like common::Event.
struct alignas(64) OrderIntent {
  std::int64_t ts_ns;           ///< When the engine decided (local clock, ns since the Unix epoch).
  std::int64_t px_ticks;        ///< Limit price in ticks of the instrument.
  std::int64_t qty_lots;        ///< Quantity in lots; > 0 for kNew and kReplace.
  std::uint64_t order_id;       ///< Client order id, unique per engine; != 0.
  std::uint64_t trigger_seq;    ///< seq of the market event that caused it (0 if none); for tracing.
  std::int64_t ts_trigger_local_ns;  ///< ts_local_ns of that event: tick-to-decision = ts_ns - this.
  std::uint32_t instrument_id;  ///< Index of the instrument in the engine.
  IntentKind kind;
  common::Side side;            ///< kBid = buy.
  OrderType type;
  TimeInForce tif;
  std::uint8_t venue_id;
  std::uint8_t reduce_only;     ///< 1 = may only reduce the position.
  std::uint8_t reserved[6];     ///< Zero; keeps the record at one cache line.
};

static_assert(sizeof(OrderIntent) == 64, "OrderIntent must stay one cache line");
static_assert(std::is_trivially_copyable_v<OrderIntent>, "OrderIntent is copied as raw bytes");
static_assert(std::is_standard_layout_v<OrderIntent>, "offsetof() of OrderIntent fields must be well defined");

/// What a venue reports about one of our orders.
enum class ReportKind : std::uint8_t {
  kAck = 1,        ///< The order rests (or a replace took effect).
  kReject = 2,     ///< The order (or the cancel/replace) was refused; `reason` says why.
  kFill = 3,       ///< A (partial) fill of `qty_lots` at `px_ticks`; the engine tracks what remains.
  kCancelled = 4,  ///< The order is gone (cancelled, expired IOC remainder, or post-only would cross).
};

/// Why a venue refused an order (kReject) or removed it (kCancelled).
enum class ReportReason : std::uint8_t {
  kNone = 0,
  kUnknownOrder = 1,       ///< Cancel/replace of an order the venue does not know (already gone).
  kPostOnlyWouldCross = 2, ///< A post-only order would have taken liquidity.
  kNoLiquidity = 3,        ///< A market or IOC order found nothing (more) to take.
  kVenueRejected = 4,      ///< The venue refused it for its own reason (live: see the venue's message).
  kUserCancel = 5,         ///< Cancelled on request.
};

/// Liquidity of a fill.
enum class FillLiquidity : std::uint8_t { kMaker = 0, kTaker = 1 };

// 64 bytes: one cache line per report. The venue id is the instrument's (the engine knows it), and the
// quantity still working is tracked by the engine, so neither is carried here.
struct alignas(64) ExecutionReport {
  std::int64_t ts_exchange_ns;  ///< Venue time of the event (simulated venue: its clock).
  std::int64_t ts_local_ns;     ///< When the engine sees it.
  std::int64_t px_ticks;        ///< Fill price (kFill), else the order's price.
  std::int64_t qty_lots;        ///< Filled quantity (kFill), else 0.
  std::int64_t fee_units;       ///< kFill: fee in notional units of the instrument; negative = rebate.
  std::uint64_t order_id;       ///< Client order id of the intent.
  std::uint64_t trade_id;       ///< kFill: venue trade id (!= 0); else 0.
  std::uint32_t instrument_id;
  ReportKind kind;
  ReportReason reason;
  common::Side side;            ///< Side of our order.
  FillLiquidity liquidity;      ///< kFill only.
};

static_assert(sizeof(ExecutionReport) == 64, "ExecutionReport must stay one cache line");
static_assert(std::is_trivially_copyable_v<ExecutionReport>, "ExecutionReport is copied as raw bytes");
static_assert(std::is_standard_layout_v<ExecutionReport>, "offsetof() of ExecutionReport fields must be well defined");

/// A report answering `intent` without a fill (an expiry, a cancel, a reject) at `ts_ns`, which is both
/// its venue and its local time: for venue adapters and benchmarks that answer an order themselves.
inline ExecutionReport report_without_fill(const OrderIntent& intent, ReportKind kind, ReportReason reason,
                                           std::int64_t ts_ns) noexcept {
  ExecutionReport report{};
  report.ts_exchange_ns = ts_ns;
  report.ts_local_ns = ts_ns;
  report.px_ticks = intent.px_ticks;
  report.order_id = intent.order_id;
  report.instrument_id = intent.instrument_id;
  report.kind = kind;
  report.reason = reason;
  report.side = intent.side;
  return report;
}

}  // namespace fastcore::engine
