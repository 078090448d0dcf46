#pragma once
/// The backtest loop: recorded (or synthetic) events -> strategy -> intents -> SimulatedExchange ->
/// reports -> strategy, in chunks, with the bookkeeping of round-trip trades for the report.
///
/// Order of work per span of events [i, j): reports due by event i's local time go to the strategy;
/// the strategy sees the span; its intents are stamped with their decision time and queued at the
/// venue; then the venue applies the span, matching each intent at its arrival time. The venue never
/// runs ahead of the strategy, so no intent is matched against a book it could not have met (late
/// orders only arise from recordings whose local clock is behind the exchange's).
///
/// A span ends before the first event at or after the next report's due time, after max_span events,
/// or once it covers max_span_ns of local time. Reports produced while the venue applies a span are
/// seen by the strategy at the next span: up to max_span_ns late, never early. With max_span_ns at the
/// minimum round trip (order + response latency) and no resting orders, that is exact.
#include <cstdint>
#include <span>
#include <vector>

#include "fastcore/common/histogram.hpp"
#include "fastcore/position/position.hpp"
#include "fastcore/sim/exchange.hpp"

namespace fastcore::sim {

/// What the backtest drives: the engine, or any strategy. Intents appended to `out` are stamped by the
/// backtest (ts_ns = decision time on the simulated local clock), so strategies need no clock.
class Strategy {
 public:
  virtual ~Strategy() = default;
  /// Sees market events in order, each at its ts_local_ns. ts_trigger_local_ns of an intent names the
  /// event it answers (0: the span's last event).
  virtual void on_events(std::span<const common::Event> events, std::vector<OrderIntent>& out) = 0;
  /// Sees execution reports as they reach the engine.
  virtual void on_reports(std::span<const ExecutionReport> reports, std::vector<OrderIntent>& out) = 0;
};

/// One round trip: from flat to flat (a flip closes one and opens the next), per instrument.
/// Money in tick-lots of the instrument (x notional_factor = notional units) and notional units.
struct RoundTrip {
  std::int64_t ts_open_ns;      ///< Venue time of the first fill.
  std::int64_t ts_close_ns;     ///< Venue time of the fill that made the position flat.
  std::int64_t gross_tl;        ///< Realized P&L before fees, tick-lots.
  std::int64_t fee_units;       ///< Fees of its fills, notional units (negative = net rebates).
  std::int64_t slippage_x2_tl;  ///< 2 x sum of (fill price - venue mid) x qty against us, tick-lots.
  std::int64_t entry_tl;        ///< Notional of the opening side (sum of |px x qty| that built it), tick-lots.
  std::uint32_t instrument_id;
  std::uint32_t fills;
};

/// Keeps per-instrument positions from the venue's fills (position::Position) and the round trips.
class TradeLedger final : public FillListener {
 public:
  explicit TradeLedger(std::size_t instruments);
  void on_fill(const ExecutionReport& fill, std::int64_t mid_x2_ticks) noexcept override;

  [[nodiscard]] const std::vector<RoundTrip>& trips() const noexcept { return trips_; }
  [[nodiscard]] const position::Position& position(std::uint32_t instrument_id) const noexcept {
    return positions_[instrument_id].position;
  }
  /// Fills the ledger could not book (overflow or bad record); 0 in any sane run.
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }
  /// Fills booked.
  [[nodiscard]] std::uint64_t fills() const noexcept { return fills_; }
  /// Fees of all fills, notional units summed per instrument.
  [[nodiscard]] __int128 fee_units(std::uint32_t instrument_id) const noexcept { return positions_[instrument_id].all_fees; }

 private:
  struct Open {
    position::Position position;
    RoundTrip trip{};
    __int128 realized_at_open = 0;
    __int128 all_fees = 0;
  };
  std::vector<Open> positions_;
  std::vector<RoundTrip> trips_;
  std::uint64_t refused_ = 0;
  std::uint64_t fills_ = 0;
};

struct BacktestConfig {
  std::int64_t decision_latency_ns = 0;  ///< Added to the trigger's local time to stamp an intent.
  std::size_t max_span = 4096;           ///< Events per strategy call at most.
  std::int64_t max_span_ns = -1;         ///< Local time per strategy call at most; < 0: the minimum round trip.
};

/// Counters and timings of a run.
struct BacktestStats {
  std::uint64_t events = 0;
  std::uint64_t spans = 0;         ///< Strategy calls with events.
  std::uint64_t report_calls = 0;  ///< Strategy calls with reports.
  std::uint64_t reports = 0;
  std::uint64_t intents = 0;
  std::int64_t strategy_ns = 0;  ///< Wall time inside the strategy.
  std::int64_t venue_ns = 0;     ///< Wall time between strategy calls: venue apply + match, the loop.
};

class Backtest {
 public:
  /// Drives `exchange` and `strategy` (neither owned; both outlive the backtest). Registers the ledger
  /// as the exchange's fill listener.
  Backtest(SimulatedExchange& exchange, Strategy& strategy, const BacktestConfig& config);
  ~Backtest();
  Backtest(const Backtest&) = delete;
  Backtest& operator=(const Backtest&) = delete;

  /// Runs one chunk of events (local-time order; chunks continue each other). On a refused event the
  /// run stops there: `applied` events were applied by the venue; the strategy may have seen more.
  [[nodiscard]] ExchangeError try_run(std::span<const common::Event> events, std::size_t& applied);
  /// After the last chunk: matches the intents still on their way, delivers the remaining reports
  /// (answers included, a bounded number of rounds).
  void finish();

  [[nodiscard]] const TradeLedger& ledger() const noexcept { return ledger_; }
  [[nodiscard]] const BacktestStats& stats() const noexcept { return stats_; }
  /// Wall time per strategy call (ns).
  [[nodiscard]] const common::Histogram& strategy_call_ns() const noexcept { return strategy_call_ns_; }
  /// Simulated tick-to-decision: intent ts_ns minus its trigger's local time (ns).
  [[nodiscard]] const common::Histogram& decision_ns() const noexcept { return decision_ns_; }
  /// The span limit in ns actually used.
  [[nodiscard]] std::int64_t max_span_ns() const noexcept { return max_span_ns_; }

 private:
  void deliver_reports(std::int64_t until_local_ns);
  void submit_all(std::int64_t lo_ns, std::int64_t hi_ns, std::int64_t fallback_ns);
  /// Adds the venue's open interval (since venue_since_ns_) up to now_ns to stats_.venue_ns.
  void close_venue_interval(std::int64_t now_ns) noexcept;

  SimulatedExchange& exchange_;
  Strategy& strategy_;
  BacktestConfig config_;
  std::int64_t max_span_ns_;
  TradeLedger ledger_;
  std::vector<OrderIntent> intents_;
  std::vector<ExecutionReport> reports_;
  std::int64_t last_seen_local_ns_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t venue_since_ns_ = std::numeric_limits<std::int64_t>::min();  // min: no interval open
  BacktestStats stats_;
  common::Histogram strategy_call_ns_;
  common::Histogram decision_ns_;
};

}  // namespace fastcore::sim
