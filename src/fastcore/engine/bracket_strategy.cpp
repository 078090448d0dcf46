#include "fastcore/engine/bracket_strategy.hpp"

namespace fastcore::engine {

const char* describe(BracketError error) noexcept {
  switch (error) {
    case BracketError::kOk: return "ok";
    case BracketError::kBadDistance: return "stop distance must be > 0 and take-profit distance >= 0 (ticks or bps <= 10000)";
    case BracketError::kBadRatio: return "reward ratio must be >= 1 (and <= 1000)";
    case BracketError::kBadQty: return "fixed quantity must be >= 0 lots";
    case BracketError::kNoSize: return "give a fixed quantity or a positive budget per instrument";
  }
  return "unknown bracket error";
}

BracketError BracketStrategy::try_configure(const BracketConfig& config) noexcept {
  constexpr std::int64_t kMaxBps = 10'000;
  constexpr std::int64_t kMaxTicks = std::int64_t{1} << 40;
  const std::int64_t max = config.unit == DistanceUnit::kBps ? kMaxBps : kMaxTicks;
  if (config.stop_distance <= 0 || config.stop_distance > max || config.take_profit_distance < 0 ||
      config.take_profit_distance > max || config.stop_slippage_ticks < 0 || config.stop_slippage_ticks > kMaxTicks ||
      (config.unit != DistanceUnit::kTicks && config.unit != DistanceUnit::kBps)) {
    return BracketError::kBadDistance;
  }
  if (config.reward_ratio < 1 || config.reward_ratio > 1000) return BracketError::kBadRatio;
  if (config.fixed_qty_lots < 0) return BracketError::kBadQty;
  if (config.fixed_qty_lots == 0 && (config.budget.num <= 0 || config.budget.den <= 0)) return BracketError::kNoSize;
  config_ = config;
  return BracketError::kOk;
}

void BracketStrategy::on_start(Engine& engine) {
  slots_.assign(engine.instrument_count(), BracketSlot{});
  quick_.assign(engine.instrument_count(), BracketQuick{});
  counters_ = BracketCounters{};
  for (std::uint32_t id = 0; id < engine.instrument_count(); ++id) engine.set_decision_gate(id, gate(id));
}

DecisionGate BracketStrategy::gate(std::uint32_t instrument_id) const noexcept {
  const BracketQuick& quick = quick_[instrument_id];
  DecisionGate out;  // always open
  switch (quick.phase) {
    case BracketPhase::kFlat:
    case BracketPhase::kEntering:
    case BracketPhase::kExiting:
      // decide(): only a crossing does something (flat), and only while flat; otherwise the call just
      // records the decision, which the gate's decision field already equals.
      out.always = false;
      out.decision = quick.last_decision;
      return out;
    case BracketPhase::kOpen:
      if (quick.has_tp == 0) return out;  // the take-profit is (re)placed at the next decision point
      out.always = false;
      out.decision = quick.last_decision;
      // decide()'s stop test: a long stops when the best bid is at or below the stop, a short when the
      // best ask is at or above it.
      if (quick.direction > 0) {
        out.bid_at_or_below = quick.stop_px_ticks;
      } else {
        out.ask_at_or_above = quick.stop_px_ticks;
      }
      return out;
    case BracketPhase::kStopping:
      return out;  // the exit is (re)sent at the next decision point
  }
  return out;
}

std::int64_t BracketStrategy::to_ticks(std::int64_t distance, std::int64_t px_ticks) const noexcept {
  if (config_.unit == DistanceUnit::kTicks) return distance;
  const __int128 px = px_ticks < 0 ? -static_cast<__int128>(px_ticks) : static_cast<__int128>(px_ticks);
  const __int128 ticks = (px * distance + 9'999) / 10'000;  // rounded up: a bracket is never tighter than asked
  return ticks < 1 ? 1 : static_cast<std::int64_t>(ticks);
}

void BracketStrategy::reset(std::uint32_t id) noexcept {
  slots_[id] = BracketSlot{};
  BracketQuick& quick = quick_[id];
  const std::int8_t last = quick.last_decision;
  quick = BracketQuick{};
  quick.last_decision = last;
}

void BracketStrategy::on_decision(Engine& engine, const DecisionPoint& point) noexcept {
  decide(engine, point);
  engine.set_decision_gate(point.instrument_id, gate(point.instrument_id));
}

void BracketStrategy::decide(Engine& engine, const DecisionPoint& point) noexcept {
  BracketQuick& quick = quick_[point.instrument_id];
  const std::int8_t decision = point.composite.has_value ? point.composite.decision : std::int8_t{0};
  const bool crossed = decision != 0 && decision != quick.last_decision;
  quick.last_decision = decision;
  if (quick.phase == BracketPhase::kFlat) {
    if (crossed) enter(engine, point, decision);
    return;
  }
  if (quick.phase == BracketPhase::kEntering || quick.phase == BracketPhase::kExiting) return;  // an IOC is working
  if (quick.phase == BracketPhase::kOpen) {
    const auto touch = point.book->best(quick.direction > 0 ? common::Side::kBid : common::Side::kAsk);
    const bool stop = touch && (quick.direction > 0 ? touch->px_ticks <= quick.stop_px_ticks
                                                    : touch->px_ticks >= quick.stop_px_ticks);
    if (!stop) {
      if (quick.has_tp == 0) place_take_profit(engine, point.instrument_id);  // a refused TP is retried
      return;
    }
  }
  BracketSlot& slot = slots_[point.instrument_id];
  switch (slot.phase) {
    case BracketPhase::kFlat:
    case BracketPhase::kEntering:
    case BracketPhase::kExiting:
      return;  // handled above from quick_
    case BracketPhase::kOpen: {
      // Only a triggered stop gets here (the check above).
      ++counters_.stops;
      set_phase(point.instrument_id, BracketPhase::kStopping);
      if (slot.tp_id != 0) {
        // The exit waits for the venue's answer to this cancel (see the header); a TP already being
        // cancelled (kill switch) is answered the same way.
        const WorkingOrder* tp = engine.find_order(slot.tp_id);
        if (tp != nullptr && !tp->cancel_sent) (void)engine.cancel(slot.tp_id);
        return;
      }
      send_stop_exit(engine, point.instrument_id);
      return;
    }
    case BracketPhase::kStopping:
      if (slot.tp_id == 0) send_stop_exit(engine, point.instrument_id);  // retry an exit not sent or not filled
      return;
  }
}

void BracketStrategy::enter(Engine& engine, const DecisionPoint& point, std::int8_t direction) noexcept {
  const common::Side side = direction > 0 ? common::Side::kBid : common::Side::kAsk;
  const auto touch = point.book->best(direction > 0 ? common::Side::kAsk : common::Side::kBid);
  if (!touch) return;
  std::int64_t qty = config_.fixed_qty_lots;
  if (qty == 0) {
    risk::OrderSize size;
    if (risk::try_max_order(engine.instrument(point.instrument_id), touch->px_ticks, config_.budget, size) !=
            risk::SizingError::kOk ||
        size.qty_lots == 0) {
      ++counters_.sizing_skips;
      return;
    }
    qty = size.qty_lots;
  }
  OrderSpec spec;
  spec.px_ticks = touch->px_ticks;
  spec.qty_lots = qty;
  spec.instrument_id = point.instrument_id;
  spec.side = side;
  spec.type = OrderType::kLimit;
  spec.tif = TimeInForce::kIoc;
  spec.tag = kTagEntry;
  const SubmitResult result = engine.submit(spec);
  if (!result.ok()) {
    ++counters_.entry_refusals;
    return;
  }
  ++counters_.entries;
  BracketSlot& slot = slots_[point.instrument_id];
  set_phase(point.instrument_id, BracketPhase::kEntering);
  slot.direction = direction;
  quick_[point.instrument_id].direction = direction;
  slot.entry_id = result.order_id;
}

void BracketStrategy::place_take_profit(Engine& engine, std::uint32_t id) noexcept {
  BracketSlot& slot = slots_[id];
  const std::int64_t net = engine.positions().net_lots(id);
  if (net == 0) return;
  OrderSpec spec;
  spec.px_ticks = slot.tp_px_ticks;
  spec.qty_lots = net > 0 ? net : -net;
  spec.instrument_id = id;
  spec.side = net > 0 ? common::Side::kAsk : common::Side::kBid;
  spec.type = OrderType::kLimit;
  spec.tif = TimeInForce::kGtc;
  spec.reduce_only = true;
  spec.tag = kTagTakeProfit;
  const SubmitResult result = engine.submit(spec);
  if (result.ok()) {
    slot.tp_id = result.order_id;
    quick_[id].has_tp = 1;
  }
}

void BracketStrategy::send_stop_exit(Engine& engine, std::uint32_t id) noexcept {
  BracketSlot& slot = slots_[id];
  const std::int64_t net = engine.positions().net_lots(id);
  if (net == 0) {
    reset(id);
    return;
  }
  const common::Side side = net > 0 ? common::Side::kAsk : common::Side::kBid;
  const auto touch = engine.books()[id].best(net > 0 ? common::Side::kBid : common::Side::kAsk);
  if (!touch) return;  // nothing to hit: retried at the next decision point
  OrderSpec spec;
  spec.px_ticks = net > 0 ? touch->px_ticks - config_.stop_slippage_ticks : touch->px_ticks + config_.stop_slippage_ticks;
  spec.qty_lots = net > 0 ? net : -net;
  spec.instrument_id = id;
  spec.side = side;
  spec.type = config_.market_stop ? OrderType::kMarket : OrderType::kLimit;
  spec.tif = TimeInForce::kIoc;
  spec.reduce_only = true;
  spec.tag = kTagStop;
  const SubmitResult result = engine.submit(spec);
  if (!result.ok()) return;  // refused (e.g. throttled): still kStopping, retried at the next decision point
  slot.exit_id = result.order_id;
  set_phase(id, BracketPhase::kExiting);
}

void BracketStrategy::on_report(Engine& engine, const ExecutionReport& report, const WorkingOrder& order,
                                bool done) noexcept {
  apply_report(engine, report, order, done);
  engine.set_decision_gate(order.instrument_id, gate(order.instrument_id));
}

void BracketStrategy::apply_report(Engine& engine, const ExecutionReport& report, const WorkingOrder& order,
                                   bool done) noexcept {
  BracketSlot& slot = slots_[order.instrument_id];
  const std::int64_t net = engine.positions().net_lots(order.instrument_id);
  switch (order.tag) {
    case kTagEntry: {
      if (order.order_id != slot.entry_id) return;
      if (report.kind == ReportKind::kFill) {
        slot.entry_cost_tl += static_cast<__int128>(report.px_ticks) * report.qty_lots;
        slot.entry_qty_lots += report.qty_lots;
      }
      if (!done) return;
      slot.entry_id = 0;
      if (slot.entry_qty_lots == 0 || net == 0) {
        reset(order.instrument_id);
        return;
      }
      // Average entry to the nearest tick (half away from zero); the bracket is set around it.
      __int128 avg = slot.entry_cost_tl / slot.entry_qty_lots;
      const __int128 rem = slot.entry_cost_tl % slot.entry_qty_lots;
      if (2 * (rem < 0 ? -rem : rem) >= slot.entry_qty_lots) avg += slot.entry_cost_tl < 0 ? -1 : 1;
      const auto entry = static_cast<std::int64_t>(avg);
      const std::int64_t stop = to_ticks(config_.stop_distance, entry);
      const std::int64_t take = config_.take_profit_distance > 0 ? to_ticks(config_.take_profit_distance, entry)
                                                                 : stop * config_.reward_ratio;
      slot.tp_px_ticks = slot.direction > 0 ? entry + take : entry - take;
      slot.stop_px_ticks = slot.direction > 0 ? entry - stop : entry + stop;
      quick_[order.instrument_id].stop_px_ticks = slot.stop_px_ticks;
      set_phase(order.instrument_id, BracketPhase::kOpen);
      place_take_profit(engine, order.instrument_id);
      return;
    }
    case kTagTakeProfit: {
      if (order.order_id != slot.tp_id) return;
      if (report.kind == ReportKind::kFill && net == 0) {
        // Flat by the take-profit: the engine stop is disarmed with the slot.
        ++counters_.take_profits;
        reset(order.instrument_id);
        return;
      }
      if (!done) return;
      slot.tp_id = 0;
      quick_[order.instrument_id].has_tp = 0;
      if (net == 0) {
        reset(order.instrument_id);
      } else if (slot.phase == BracketPhase::kStopping) {
        send_stop_exit(engine, order.instrument_id);  // the TP is gone: now the exit cannot over-reduce
      }
      return;  // kOpen: a TP removed by the venue or the kill switch is re-placed at the next decision
    }
    case kTagStop: {
      if (order.order_id != slot.exit_id || !done) return;
      slot.exit_id = 0;
      if (net == 0) {
        ++counters_.stop_exits;
        reset(order.instrument_id);
      } else {
        set_phase(order.instrument_id, BracketPhase::kStopping);  // partly filled: exit again at the next decision point
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace fastcore::engine
