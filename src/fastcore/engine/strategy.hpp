#pragma once
/// The strategy interface of the engine: what a strategy sees at a decision point, how it asks for orders,
/// and what it hears back. A C++ strategy derives from Strategy and is handed to Engine::try_init; the
/// engine calls it on one thread, synchronously, inside on_events / on_reports.
#include <cstdint>
#include <limits>

#include "fastcore/book/book.hpp"
#include "fastcore/common/event.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/risk/risk_check.hpp"
#include "fastcore/signal/features.hpp"

namespace fastcore::engine {

class Engine;

/// One decision point: the end of a market message (kFlagLastInMessage) for one instrument, after its
/// book and signals were updated. Pointers are valid only during the call.
struct DecisionPoint {
  std::int64_t ts_ns = 0;                      ///< Engine time of the decision (see EngineConfig::wall_clock).
  const common::Event* trigger = nullptr;      ///< The message's last event.
  const book::Book* book = nullptr;            ///< The instrument's book (consistent now).
  const signal::FeatureState* features = nullptr;
  signal::CompositeValue composite;            ///< The engine's composite on `features`.
  std::uint32_t instrument_id = 0;
};

/// When a strategy's decision for one instrument can do anything: the engine skips on_decision at a
/// decision point the gate does not open (the strategy's state then stays as it was, so the skipped call
/// must have been one that would change nothing). The default gate is always open. A strategy publishes
/// its gate with Engine::set_decision_gate whenever its state for the instrument changes.
struct DecisionGate {
  /// Open when the best bid is at or below this (no bid: not opened by this test).
  std::int64_t bid_at_or_below = std::numeric_limits<std::int64_t>::min();
  /// Open when the best ask is at or above this (no ask: not opened by this test).
  std::int64_t ask_at_or_above = std::numeric_limits<std::int64_t>::max();
  std::int8_t decision = 0;  ///< Open when the composite decision (0 without a value) differs from this.
  bool always = true;        ///< Open at every decision point (the other fields are then unused).
};

/// A new order as a strategy asks for it; the engine allocates the id and runs the risk check.
struct OrderSpec {
  std::int64_t px_ticks = 0;   ///< Limit price; for kMarket the risk check's reference price.
  std::int64_t qty_lots = 0;   ///< > 0.
  std::uint32_t instrument_id = 0;
  common::Side side = common::Side::kBid;  ///< kBid = buy.
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  bool reduce_only = false;
  std::uint32_t tag = 0;       ///< The strategy's own label (e.g. entry / take-profit); echoed in WorkingOrder.
};

/// The engine's record of one of its working orders (read-only to strategies).
struct WorkingOrder {
  std::uint64_t order_id = 0;        ///< 0 = free slot.
  std::int64_t px_ticks = 0;
  std::int64_t qty_lots = 0;         ///< Original quantity (or the replaced one).
  std::int64_t leaves_lots = 0;      ///< Quantity not yet filled.
  std::int64_t prev_px_ticks = 0;    ///< Before a replace in flight (to restore on its reject).
  std::int64_t prev_qty_lots = 0;
  std::uint32_t instrument_id = 0;
  std::uint32_t tag = 0;
  common::Side side = common::Side::kBid;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  bool reduce_only = false;
  bool acked = false;
  bool cancel_sent = false;          ///< A kCancel intent was emitted and not yet answered.
  bool replace_sent = false;         ///< A kReplace intent was emitted and not yet acked or rejected.
};

/// Outcome of Engine::submit: the id when the order was accepted (intent emitted), else why not.
struct SubmitResult {
  std::uint64_t order_id = 0;                   ///< != 0 when accepted.
  risk::RiskReason reason = risk::RiskReason::kOk;  ///< Risk refusal (kOk when accepted or when `full`).
  bool output_full = false;                     ///< The intent buffer had no room: nothing was sent.
  [[nodiscard]] bool ok() const noexcept { return order_id != 0; }
};

/// A trading strategy run by the engine. Calls are noexcept: a strategy reports trouble through its
/// own state, never by throwing through the engine.
class Strategy {
 public:
  virtual ~Strategy() = default;
  /// Once, from Engine::try_init, after the engine is set up (allocate per-instrument state here).
  virtual void on_start(Engine& engine) = 0;
  /// At every decision point its DecisionGate opens (default: every one); may call engine.submit /
  /// cancel / replace.
  virtual void on_decision(Engine& engine, const DecisionPoint& point) noexcept = 0;
  /// After the engine applied a report about one of its orders: `order` is its state after the report,
  /// `done` is true when the order is finished (filled, cancelled or rejected) and its slot is free again.
  virtual void on_report(Engine& engine, const ExecutionReport& report, const WorkingOrder& order,
                         bool done) noexcept = 0;
};

}  // namespace fastcore::engine
