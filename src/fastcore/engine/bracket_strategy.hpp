#pragma once
/// The built-in strategy: enter when the composite signal crosses its threshold, exit on a take-profit /
/// stop-loss bracket, one position per instrument.
///
/// Orders, and why:
/// - Entry: an IOC limit at the opposite touch (buy at the best ask, sell at the best bid). It takes the
///   liquidity that made the signal or nothing; it never rests, so there is no stale entry to manage.
///   Size: fixed_qty_lots, or the sizing rules (risk::try_max_order of the per-instrument budget at the
///   entry price: whole lots, min qty and min notional respected; 0 lots = no entry, counted).
/// - Take-profit: a resting GTC limit, reduce-only, for the whole filled entry, at the average entry
///   price +- the TP distance (it earns the maker side when it fills).
/// - Stop-loss: monitored by the engine, not resting at the venue (a resting stop is a venue feature the
///   intent record does not carry). At each decision point of the instrument, a long stops when the best
///   bid is at or below the stop price (a short: best ask at or above). The stop first cancels the TP and
///   only when the venue confirms the cancel sends a reduce-only IOC (or market) order for what is left:
///   two reduce-only exits are never working at once, so the exits can never add up to more than the
///   position (the risk check would refuse the second anyway). The cost is one cancel round trip.
/// - "Cancel the other leg": a TP fill that flattens the position disarms the engine stop (nothing to
///   cancel at the venue); a stop cancels the TP before it exits. An exit IOC that leaves some of the
///   position (partial fill) is repeated at the next decision point.
/// - Distances: in ticks, or in basis points of the entry price (rounded up to whole ticks, at least 1).
///   TP distance defaults to reward_ratio x stop distance (2:1).
/// - Entries need a crossing: the decision must change to +1 (or -1) since the previous decision point
///   of the instrument, so a signal that stays above the threshold does not re-enter after an exit.
/// - Decision gate (see DecisionGate): after every call the strategy tells the engine when the next
///   decision point of the instrument can matter: flat, entering or exiting, when the decision changes;
///   open with its take-profit resting, when the decision changes or the touch reaches the stop; in any
///   other state, always. The engine skips the calls in between, which would only have rewritten the
///   same last decision.
#include <cstdint>
#include <vector>

#include "fastcore/engine/engine.hpp"
#include "fastcore/engine/strategy.hpp"
#include "fastcore/risk/sizing.hpp"

namespace fastcore::engine {

/// Unit of the bracket distances.
enum class DistanceUnit : std::uint8_t { kTicks = 0, kBps = 1 };

/// Parameters of the bracket strategy (same for every instrument).
struct BracketConfig {
  DistanceUnit unit = DistanceUnit::kTicks;
  std::int64_t stop_distance = 10;         ///< > 0, in `unit`.
  std::int64_t take_profit_distance = 0;   ///< In `unit`; 0 = reward_ratio x stop_distance.
  std::int64_t reward_ratio = 2;           ///< TP : SL when take_profit_distance is 0 (>= 1).
  std::int64_t fixed_qty_lots = 0;         ///< > 0: every entry is this size; 0: size by `budget`.
  risk::Ratio budget{0, 1};                ///< Quote currency per instrument per trade (sizing rules).
  std::int64_t stop_slippage_ticks = 0;    ///< Stop exit limit = touch -+ this (marketable IOC limit).
  bool market_stop = false;                ///< Stop exit as a market order instead of an IOC limit.
};

/// Why a BracketConfig was refused.
enum class BracketError : std::uint8_t { kOk = 0, kBadDistance, kBadRatio, kBadQty, kNoSize };

/// Readable text for a BracketError (static storage, never null).
const char* describe(BracketError error) noexcept;

/// Phase of one instrument in the bracket strategy.
enum class BracketPhase : std::uint8_t {
  kFlat = 0,      ///< No position, no order.
  kEntering = 1,  ///< Entry IOC working.
  kOpen = 2,      ///< Position on; TP resting (or being re-placed), stop armed.
  kStopping = 3,  ///< Stop triggered: waiting for the TP cancel, or to re-send the exit.
  kExiting = 4,   ///< Stop exit IOC working.
};

/// Per-instrument state of the bracket strategy (read-only outside it).
struct BracketSlot {
  std::uint64_t entry_id = 0;
  std::uint64_t tp_id = 0;
  std::uint64_t exit_id = 0;
  std::int64_t tp_px_ticks = 0;
  std::int64_t stop_px_ticks = 0;
  __int128 entry_cost_tl = 0;     ///< Sum of px x qty of the entry fills.
  std::int64_t entry_qty_lots = 0;
  BracketPhase phase = BracketPhase::kFlat;
  std::int8_t direction = 0;      ///< +1 long, -1 short (while not flat).
  std::int8_t last_decision = 0;  ///< Composite decision at the previous decision point.
};

/// What every decision point of an instrument reads, kept apart from BracketSlot in a dense array
/// (16 bytes per instrument: 16 KB for 1,000, four to a cache line) so the decision of a flat, waiting
/// or open instrument touches no cold 80-byte slot. The fields mirror BracketSlot's and are written
/// next to them (phase by set_phase only).
struct BracketQuick {
  std::int64_t stop_px_ticks = 0;  ///< BracketSlot::stop_px_ticks.
  BracketPhase phase = BracketPhase::kFlat;
  std::int8_t last_decision = 0;
  std::int8_t direction = 0;       ///< BracketSlot::direction.
  std::uint8_t has_tp = 0;         ///< BracketSlot::tp_id != 0.
};
static_assert(sizeof(BracketQuick) == 16, "four instruments' decision state per cache line");

/// What the bracket strategy has done.
struct BracketCounters {
  std::uint64_t entries = 0;          ///< Entry orders accepted by risk.
  std::uint64_t entry_refusals = 0;   ///< Entry orders refused by risk (reason counted by the engine).
  std::uint64_t sizing_skips = 0;     ///< Signals not taken because sizing gave 0 lots.
  std::uint64_t take_profits = 0;     ///< Positions closed by the take-profit.
  std::uint64_t stops = 0;            ///< Stops triggered.
  std::uint64_t stop_exits = 0;       ///< Positions closed by a stop exit.
};

/// Role of an order, in WorkingOrder::tag.
inline constexpr std::uint32_t kTagEntry = 1;
inline constexpr std::uint32_t kTagTakeProfit = 2;
inline constexpr std::uint32_t kTagStop = 3;

class BracketStrategy final : public Strategy {
 public:
  /// Checks and keeps `config`; kNoSize when neither a fixed size nor a positive budget is given.
  [[nodiscard]] BracketError try_configure(const BracketConfig& config) noexcept;
  [[nodiscard]] const BracketConfig& config() const noexcept { return config_; }

  void on_start(Engine& engine) override;
  void on_decision(Engine& engine, const DecisionPoint& point) noexcept override;
  void on_report(Engine& engine, const ExecutionReport& report, const WorkingOrder& order, bool done) noexcept override;
  /// When the next decision point of an instrument can change anything (published to the engine).
  [[nodiscard]] DecisionGate gate(std::uint32_t instrument_id) const noexcept;

  /// State of an instrument (id < the engine's instrument count).
  [[nodiscard]] BracketSlot slot(std::uint32_t instrument_id) const noexcept {
    BracketSlot out = slots_[instrument_id];
    out.last_decision = quick_[instrument_id].last_decision;
    return out;
  }
  [[nodiscard]] const BracketCounters& counters() const noexcept { return counters_; }
  /// Distance in ticks for `distance` in the configured unit at `px_ticks` (bps: rounded up, >= 1).
  [[nodiscard]] std::int64_t to_ticks(std::int64_t distance, std::int64_t px_ticks) const noexcept;

 private:
  void decide(Engine& engine, const DecisionPoint& point) noexcept;
  void apply_report(Engine& engine, const ExecutionReport& report, const WorkingOrder& order, bool done) noexcept;
  void enter(Engine& engine, const DecisionPoint& point, std::int8_t direction) noexcept;
  void place_take_profit(Engine& engine, std::uint32_t id) noexcept;
  void send_stop_exit(Engine& engine, std::uint32_t id) noexcept;
  /// Back to kFlat, keeping the last decision (an entry needs a new crossing).
  void reset(std::uint32_t id) noexcept;
  void set_phase(std::uint32_t id, BracketPhase phase) noexcept {
    slots_[id].phase = phase;
    quick_[id].phase = phase;
  }

  BracketConfig config_;
  std::vector<BracketSlot> slots_;  ///< last_decision unused here: quick_ holds it (see slot()).
  std::vector<BracketQuick> quick_;
  BracketCounters counters_;
};

}  // namespace fastcore::engine
