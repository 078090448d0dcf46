#include "fastcore/sim/backtest.hpp"

#include <algorithm>
#include <limits>

#include "fastcore/common/clock.hpp"

namespace fastcore::sim {
namespace {

using common::Side;

constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
constexpr int kFinishRounds = 16;  // answers to answers at the end of the data: bounded, not a loop forever

std::int64_t saturate(__int128 value) noexcept {
  if (value > std::numeric_limits<std::int64_t>::max()) return std::numeric_limits<std::int64_t>::max();
  if (value < std::numeric_limits<std::int64_t>::min()) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(value);
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? kMaxTime : kMinTime;
  return out;
}

}  // namespace

TradeLedger::TradeLedger(std::size_t instruments) : positions_(instruments) { trips_.reserve(1024); }

void TradeLedger::on_fill(const ExecutionReport& fill, std::int64_t mid_x2_ticks) noexcept {
  if (fill.instrument_id >= positions_.size() || fill.qty_lots <= 0) {
    ++refused_;
    return;
  }
  Open& open = positions_[fill.instrument_id];
  const std::int64_t before = open.position.net_lots();
  position::Position::Next next{};
  if (open.position.try_prepare(fill.side, fill.px_ticks, fill.qty_lots, next) != position::PositionError::kOk) {
    ++refused_;
    return;
  }
  if (before == 0) {
    open.trip = RoundTrip{};
    open.trip.ts_open_ns = fill.ts_exchange_ns;
    open.trip.instrument_id = fill.instrument_id;
    open.realized_at_open = open.position.realized_tl();
  }
  const auto liquidity = fill.liquidity == engine::FillLiquidity::kMaker ? position::Liquidity::kMaker
                                                                         : position::Liquidity::kTaker;
  open.position.commit(next, fill.fee_units, liquidity);
  open.all_fees += fill.fee_units;
  ++fills_;
  const bool buy = fill.side == Side::kBid;
  RoundTrip& trip = open.trip;
  ++trip.fills;
  trip.fee_units = saturate(static_cast<__int128>(trip.fee_units) + fill.fee_units);
  if (mid_x2_ticks != 0) {
    const __int128 against = buy ? 2 * static_cast<__int128>(fill.px_ticks) - mid_x2_ticks
                                 : mid_x2_ticks - 2 * static_cast<__int128>(fill.px_ticks);
    trip.slippage_x2_tl = saturate(trip.slippage_x2_tl + against * fill.qty_lots);
  }
  const std::int64_t after = next.net_lots;
  const bool increases = before == 0 || (before > 0) == buy;
  const __int128 fill_tl = static_cast<__int128>(fill.px_ticks) * fill.qty_lots;
  if (increases) trip.entry_tl = saturate(trip.entry_tl + (fill_tl < 0 ? -fill_tl : fill_tl));
  const bool flipped = (before > 0 && after < 0) || (before < 0 && after > 0);
  if (before != 0 && (after == 0 || flipped)) {
    trip.ts_close_ns = fill.ts_exchange_ns;
    trip.gross_tl = saturate(open.position.realized_tl() - open.realized_at_open);
    trips_.push_back(trip);
    if (flipped) {  // the rest of this fill opens the next trip (its fee stays with the closed one)
      trip = RoundTrip{};
      trip.ts_open_ns = fill.ts_exchange_ns;
      trip.instrument_id = fill.instrument_id;
      trip.fills = 1;
      const __int128 opened = static_cast<__int128>(fill.px_ticks) * (after < 0 ? -after : after);
      trip.entry_tl = saturate(opened < 0 ? -opened : opened);
      open.realized_at_open = open.position.realized_tl();
    }
  }
}

Backtest::Backtest(SimulatedExchange& exchange, Strategy& strategy, const BacktestConfig& config)
    : exchange_(exchange),
      strategy_(strategy),
      config_(config),
      max_span_ns_(config.max_span_ns >= 0 ? config.max_span_ns
                                           : saturating_add(exchange.config().order_latency.min_ns(),
                                                            exchange.config().response_latency.min_ns())),
      ledger_(exchange.instruments()) {
  if (config_.max_span == 0) config_.max_span = 1;
  intents_.reserve(1024);
  reports_.resize(1024);
  exchange_.set_fill_listener(&ledger_);
}

Backtest::~Backtest() {
  if (exchange_.fill_listener() == &ledger_) exchange_.set_fill_listener(nullptr);  // unless another took over
}

void Backtest::submit_all(std::int64_t lo_ns, std::int64_t hi_ns, std::int64_t fallback_ns) {
  for (OrderIntent& intent : intents_) {
    // The decision happens on the simulated clock: at the trigger (kept inside what the strategy had
    // seen when it decided) plus the configured decision latency.
    const std::int64_t trigger =
        intent.ts_trigger_local_ns != 0 ? std::clamp(intent.ts_trigger_local_ns, lo_ns, hi_ns) : fallback_ns;
    intent.ts_ns = saturating_add(trigger, config_.decision_latency_ns);
    if (intent.ts_trigger_local_ns == 0) intent.ts_trigger_local_ns = trigger;
    decision_ns_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, intent.ts_ns - trigger)));
    exchange_.submit(intent);
  }
  stats_.intents += intents_.size();
  intents_.clear();
}

void Backtest::deliver_reports(std::int64_t until_local_ns) {
  // Nearly every span finds no report due: one inline compare instead of a drain call.
  if (exchange_.next_report_local_ns() > until_local_ns) return;
  for (;;) {
    const std::size_t count = exchange_.drain_reports(reports_, until_local_ns);
    if (count == 0) return;
    const std::span<const ExecutionReport> batch(reports_.data(), count);
    const std::int64_t start = common::monotonic_ns();
    close_venue_interval(start);
    strategy_.on_reports(batch, intents_);
    const std::int64_t spent = common::monotonic_ns() - start;
    stats_.strategy_ns += spent;
    strategy_call_ns_.record(static_cast<std::uint64_t>(spent));
    ++stats_.report_calls;
    stats_.reports += count;
    // Seen now: after the last report's arrival and after the last event the strategy saw.
    const std::int64_t seen = std::max(batch.back().ts_local_ns, last_seen_local_ns_);
    submit_all(seen, seen, seen);
  }
}

ExchangeError Backtest::try_run(std::span<const common::Event> events, std::size_t& applied) {
  applied = 0;
  const std::size_t n = events.size();
  std::size_t i = 0;
  while (i < n) {
    const std::int64_t first_local = events[i].ts_local_ns;
    deliver_reports(first_local);
    const std::int64_t bound = std::min(exchange_.next_report_local_ns(), saturating_add(first_local, max_span_ns_));
    const std::size_t limit = std::min(n, i + config_.max_span);
    std::size_t j = i + 1;
    // Four events per test while all four are before the bound (the same end as one at a time: the
    // first event at or after the bound, whatever order the times are in), then one at a time. The
    // latest of the four against the bound: three cmov-maxima and one compare and branch.
    const auto latest_of_four = [&events](std::size_t k) noexcept {
      return std::max(std::max(events[k].ts_local_ns, events[k + 1].ts_local_ns),
                      std::max(events[k + 2].ts_local_ns, events[k + 3].ts_local_ns));
    };
    while (j + 4 <= limit && latest_of_four(j) < bound) j += 4;
    while (j < limit && events[j].ts_local_ns < bound) ++j;
    const std::span<const common::Event> span = events.subspan(i, j - i);
    // Two clock reads per span (a read costs ~0.1 us on the VMs we run on, a third of a span's
    // venue work on a recording): the venue's interval runs from the strategy's return to the next
    // read, which is the next strategy call's start (or the end of this call).
    const std::int64_t start = common::monotonic_ns();
    close_venue_interval(start);
    strategy_.on_events(span, intents_);
    const std::int64_t middle = common::monotonic_ns();
    stats_.strategy_ns += middle - start;
    strategy_call_ns_.record(static_cast<std::uint64_t>(middle - start));
    ++stats_.spans;
    venue_since_ns_ = middle;
    const std::int64_t last_local = span.back().ts_local_ns;
    submit_all(first_local, last_local, last_local);
    ExchangeError error = ExchangeError::kOk;
    const std::size_t done = exchange_.on_events(span, error);
    applied += done;
    stats_.events += done;
    if (error != ExchangeError::kOk) {
      close_venue_interval(common::monotonic_ns());
      return error;
    }
    last_seen_local_ns_ = std::max(last_seen_local_ns_, last_local);
    i = j;
  }
  close_venue_interval(common::monotonic_ns());
  return ExchangeError::kOk;
}

void Backtest::close_venue_interval(std::int64_t now_ns) noexcept {
  if (venue_since_ns_ == kMinTime) return;
  stats_.venue_ns += now_ns - venue_since_ns_;
  venue_since_ns_ = kMinTime;
}

void Backtest::finish() {
  for (int round = 0; round < kFinishRounds; ++round) {
    exchange_.advance_to(kMaxTime);
    if (exchange_.pending_reports() == 0) return;
    deliver_reports(kMaxTime);
  }
}

}  // namespace fastcore::sim
