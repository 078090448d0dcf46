#pragma once
/// A simulated venue for many instruments: it keeps its own book per instrument from market events
/// (the venue's book), takes the engine's OrderIntents after an order latency, matches them against
/// the book as it is when they arrive, keeps a queue position for resting orders, and hands back
/// ExecutionReports after a response latency.
///
/// Time. Each event happens at its exchange time (ts_exchange_ns + clock_offset_ns, or ts_local_ns when
/// the venue gave none). An intent decided at ts_ns arrives at ts_ns + order latency and is matched after every event
/// with exchange time <= its arrival and before any later one: no look-ahead. Arrivals keep the send
/// order (one session, like one TCP connection), and so do reports. An intent submitted after the
/// venue already applied events later than its arrival (a driver that ran the venue ahead, or a local
/// clock behind the exchange's) is matched at the venue's current time and counted in late_orders().
///
/// Our orders are virtual: they are not in the replayed book's quantities and taking liquidity does not
/// remove it from the replayed book (no market impact). Passive fills come from the trade prints and
/// from the book trading through the order's price:
///   - a trade at a price worse than ours for the aggressor, or the opposite side's best reaching our
///     price, fills all that is left (the aggressor took everything at our price and better);
///   - a trade at our price first uses up the queue ahead of us, the rest fills us (partial fills);
///   - a level decrease at our price: kTradeThrough (conservative) only caps the queue ahead at the
///     level's new size; kProbabilistic also takes the decrease from ahead of us with probability
///     f(ahead) / (f(ahead) + f(behind)), f(x) = x^power, drawn from the seeded generator, after
///     discounting what trades at our price since the last update already explained.
/// Deterministic: the same events, intents, configuration and seed give the same reports, byte for byte.
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "fastcore/book/book.hpp"
#include "fastcore/common/event.hpp"
#include "fastcore/common/histogram.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/sim/synthetic_market.hpp"

namespace fastcore::sim {

using engine::ExecutionReport;
using engine::OrderIntent;

/// How passive orders advance in the queue at their price.
enum class QueueModel : std::uint8_t {
  kTradeThrough = 0,   ///< Conservative: only trades (and the level shrinking below us) move us up.
  kProbabilistic = 1,  ///< Level decreases also come from ahead of us with a seeded probability.
};

/// One direction's latency: constant, uniform in [lo_ns, hi_ns], or drawn from recorded samples.
struct LatencyModel {
  enum class Kind : std::uint8_t { kConstant = 0, kUniform = 1, kSamples = 2 };
  Kind kind = Kind::kConstant;
  std::int64_t lo_ns = 0;             ///< kConstant: the latency; kUniform: the lower bound.
  std::int64_t hi_ns = 0;             ///< kUniform: the upper bound (inclusive).
  std::vector<std::int64_t> samples;  ///< kSamples: drawn uniformly with the seeded generator.

  /// Smallest latency this model can give (the backtest uses it to run the venue ahead safely).
  [[nodiscard]] std::int64_t min_ns() const noexcept;
};

/// Fees and notional scale of one instrument (the Python layer fills these per venue).
struct InstrumentSpec {
  std::int64_t maker_fee_bps_e4 = 0;  ///< Maker fee in bps x 10^4 of the notional; negative = rebate.
  std::int64_t taker_fee_bps_e4 = 0;  ///< Taker fee in bps x 10^4 of the notional.
  /// Notional units per tick-lot (common::Instrument::notional_factor()): fee_units are in those units.
  std::int64_t notional_factor = 1;
};

struct ExchangeConfig {
  std::vector<InstrumentSpec> instruments;
  QueueModel queue_model = QueueModel::kTradeThrough;
  std::uint32_t queue_power = 2;  ///< kProbabilistic: f(x) = x^power, 1..8.
  LatencyModel order_latency;     ///< Engine -> venue.
  LatencyModel response_latency;  ///< Venue -> engine.
  std::uint64_t seed = 1;
  /// Added to every event's ts_exchange_ns: puts the exchange's clock on the local clock's scale (intents
  /// are stamped on the local clock). Negative when a recorder's clock was behind the exchange's; the
  /// backtest picks the smallest shift that makes every feed latency >= 0.
  std::int64_t clock_offset_ns = 0;
  std::uint32_t max_open_orders = 65'536;  ///< Resting orders across instruments; more are rejected.
  std::uint32_t max_levels_per_side = book::Book::kDefaultMaxLevels;
  /// on_events() applies runs of events that cannot meet one of our orders (one instrument, before the
  /// next intent's arrival, away from its resting orders' prices) with one Book::try_apply_batch call
  /// each. Same books, reports, clock, histograms and stats as one event at a time (false: the
  /// reference path, kept for the tests that compare the two).
  bool batch_runs = true;
};

/// Why a configuration or an event was refused.
enum class ExchangeError : std::uint8_t {
  kOk = 0,
  kNoInstruments,      ///< The configuration has no instrument.
  kBadLatency,         ///< Negative latency, lo > hi, or kSamples with no samples.
  kBadFee,             ///< A fee beyond +-100 % (10^8 in bps x 10^4) or a notional factor < 1.
  kBadQueuePower,      ///< queue_power outside 1..8.
  kBadCapacity,        ///< max_open_orders outside 1..2^24, or max_levels_per_side 0.
  kUnknownInstrument,  ///< An event's instrument_id has no book.
  kBookRefused,        ///< The book refused the event (see book_error()).
};

/// Readable text for an ExchangeError (static storage).
const char* describe(ExchangeError error) noexcept;

/// Checks a configuration; the exchange's constructor requires kOk.
[[nodiscard]] ExchangeError validate(const ExchangeConfig& config) noexcept;

/// Told about every fill as it happens on the venue (before the response latency), with the venue's mid
/// at that moment as 2 x mid in ticks (0 when one side is empty), for slippage accounting.
class FillListener {
 public:
  virtual ~FillListener() = default;
  virtual void on_fill(const ExecutionReport& fill, std::int64_t mid_x2_ticks) noexcept = 0;
};

/// Counters since construction.
struct ExchangeStats {
  std::uint64_t events = 0;
  std::uint64_t intents = 0;
  std::uint64_t rejects = 0;
  std::uint64_t fills = 0;
  std::uint64_t maker_fills = 0;
  std::uint64_t taker_fills = 0;
  std::uint64_t late_orders = 0;  ///< Intents matched after their nominal arrival (see the file comment).
  std::uint64_t fee_overflows = 0;  ///< Fees too large for int64 (reported saturated); never in practice.
  std::uint64_t batched_events = 0;  ///< Of `events`, those applied in runs (ExchangeConfig::batch_runs).
};

class SimulatedExchange {
 public:
  /// Requires validate(config) == kOk. Allocates every table up front.
  explicit SimulatedExchange(const ExchangeConfig& config);

  /// Applies one market event at its exchange time, first matching every intent that arrived before
  /// it. kUnknownInstrument/kBookRefused leave the book unchanged. O(1) plus the instrument's orders.
  [[nodiscard]] ExchangeError try_on_event(const common::Event& event) noexcept;

  /// Applies events in order; stops at the first refused one. Returns how many were applied.
  [[nodiscard]] std::size_t on_events(std::span<const common::Event> events, ExchangeError& error) noexcept;

  /// Queues an intent; it arrives at intent.ts_ns + order latency (kept in send order). Bad intents are
  /// rejected at arrival with a kReject report, like a venue would.
  void submit(const OrderIntent& intent);

  /// Matches every queued intent that arrived by `ts_ns` (the end of the data: nothing more happens).
  void advance_to(std::int64_t ts_ns) noexcept;

  /// Copies up to out.size() reports with ts_local_ns <= until_local_ns into `out`, oldest first,
  /// and removes them. Returns how many.
  std::size_t drain_reports(std::span<ExecutionReport> out, std::int64_t until_local_ns) noexcept;
  /// Reports waiting to be drained.
  [[nodiscard]] std::size_t pending_reports() const noexcept { return reports_.size() - report_head_; }
  /// ts_local_ns of the oldest waiting report, or INT64_MAX when none.
  [[nodiscard]] std::int64_t next_report_local_ns() const noexcept {
    return report_head_ < reports_.size() ? reports_[report_head_].ts_local_ns : std::numeric_limits<std::int64_t>::max();
  }
  /// Intents queued that have not arrived yet.
  [[nodiscard]] std::size_t pending_intents() const noexcept { return inbound_.size() - inbound_head_; }

  [[nodiscard]] const book::Book& book(std::uint32_t instrument_id) const noexcept { return books_[instrument_id]; }
  [[nodiscard]] std::size_t instruments() const noexcept { return books_.size(); }
  /// The venue's clock: the latest exchange time it has processed.
  [[nodiscard]] std::int64_t now_ns() const noexcept { return clock_ns_; }
  /// Resting orders.
  [[nodiscard]] std::size_t open_orders() const noexcept { return open_count_; }
  /// Net position the venue has filled per instrument (for reduce-only checks), lots.
  [[nodiscard]] std::int64_t position_lots(std::uint32_t instrument_id) const noexcept {
    return position_lots_[instrument_id];
  }
  /// Queue ahead of a resting order in lots, or -1 if it is not resting.
  [[nodiscard]] std::int64_t queue_ahead(std::uint64_t order_id) const noexcept;
  /// Error of the last kBookRefused.
  [[nodiscard]] book::ApplyError book_error() const noexcept { return book_error_; }
  [[nodiscard]] const ExchangeStats& stats() const noexcept { return stats_; }
  /// Exchange-to-local delay (ns), once per message: per run of events that carry the same exchange and
  /// local times (the events of one frame), so a 70-level depth frame counts once, not 70 times.
  [[nodiscard]] const common::Histogram& feed_latency() const noexcept { return feed_latency_; }
  /// Order latencies drawn (ns).
  [[nodiscard]] const common::Histogram& order_latency() const noexcept { return order_latency_; }
  /// Response latencies drawn (ns).
  [[nodiscard]] const common::Histogram& response_latency() const noexcept { return response_latency_; }
  [[nodiscard]] const ExchangeConfig& config() const noexcept { return config_; }

  /// Tells `listener` (not owned; nullptr to stop) about every fill.
  void set_fill_listener(FillListener* listener) noexcept { fill_listener_ = listener; }
  /// The current fill listener, or nullptr.
  [[nodiscard]] FillListener* fill_listener() const noexcept { return fill_listener_; }

 private:
  static constexpr std::uint32_t kNone = 0xFFFF'FFFFU;

  struct Resting {
    std::uint64_t order_id = 0;
    std::int64_t px_ticks = 0;
    std::int64_t leaves_lots = 0;
    std::int64_t ahead_lots = 0;
    std::int64_t traded_at_px_lots = 0;  // trade prints at our price since the level last changed
    std::uint32_t instrument_id = 0;
    std::uint32_t prev = kNone;  // neighbours in the instrument's list (insertion order: deterministic)
    std::uint32_t next = kNone;
    common::Side side = common::Side::kBid;
  };
  struct Inbound {
    OrderIntent intent;
    std::int64_t arrival_ns;
  };

  [[gnu::always_inline]] ExchangeError apply_one(const common::Event& event) noexcept;
  /// The event's time on the venue's clock (exchange time + clock offset; local time without one).
  [[nodiscard, gnu::always_inline]] std::int64_t event_time(const common::Event& event) const noexcept;
  /// The clock and the feed latency after an applied event at venue time t.
  [[gnu::always_inline]] void note_applied(const common::Event& event, std::int64_t t) noexcept;
  /// note_applied() for each of the first `applied` events of a run, in order.
  void note_run(const common::Event* first, std::size_t applied) noexcept;
  /// Applies the longest run (at most 256) of events from events[0] that one-at-a-time application
  /// would apply without touching an order: returns how many it applied (0: events[0] needs
  /// apply_one()), and on a book refusal sets `error` (the refused event is events[returned]).
  std::size_t apply_run(std::span<const common::Event> events, ExchangeError& error) noexcept;
  /// How many of the first `count` events apply_run() may batch (see the definition).
  template <bool kDue>
  [[nodiscard]] std::size_t scan_run(const common::Event* first, std::size_t count, std::uint32_t id) const noexcept;
  struct OrderBounds;
  /// Lowest and highest price of the instrument's resting orders per side.
  [[nodiscard]] OrderBounds order_bounds(std::uint32_t instrument_id) const noexcept;
  std::int64_t draw(const LatencyModel& model, Rng& rng) noexcept;
  void process_arrival(const Inbound& inbound) noexcept;
  void on_new(const OrderIntent& intent, std::int64_t now) noexcept;
  void on_cancel(const OrderIntent& intent, std::int64_t now) noexcept;
  void on_replace(const OrderIntent& intent, std::int64_t now) noexcept;
  /// Takes liquidity up to `limit_px`; returns the lots filled. `market` ignores the limit.
  std::int64_t take(const OrderIntent& intent, std::int64_t qty_lots, std::int64_t limit_px, bool market,
                    std::int64_t now) noexcept;
  /// Whether a limit order at px on `side` would take liquidity now.
  [[nodiscard]] bool crosses(std::uint32_t instrument_id, common::Side side, std::int64_t px) const noexcept;
  /// Places a resting order (queue at the back of its level); false when the table is full.
  bool rest(const OrderIntent& intent, std::int64_t px, std::int64_t qty) noexcept;
  void on_market(std::uint32_t instrument_id, const common::Event& event, std::int64_t old_qty) noexcept;
  void on_level_change(Resting& order, std::int64_t old_qty, std::int64_t new_qty) noexcept;
  void fill_passive(std::uint32_t slot, std::int64_t qty, std::int64_t now) noexcept;
  void remove(std::uint32_t slot) noexcept;
  void report(const ExecutionReport& report) noexcept;
  void reject(const OrderIntent& intent, engine::ReportReason reason, std::int64_t now) noexcept;
  void emit_fill(std::uint32_t instrument_id, std::uint64_t order_id, common::Side side, std::int64_t px,
                 std::int64_t qty, engine::FillLiquidity liquidity, std::int64_t now) noexcept;
  [[nodiscard]] std::int64_t own_lots_at(std::uint32_t instrument_id, common::Side side,
                                         std::int64_t px) const noexcept;

  // order_id -> slot: open addressing with linear probing (ids are != 0, so 0 marks an empty cell).
  [[nodiscard]] std::uint32_t find(std::uint64_t order_id) const noexcept;
  void index_insert(std::uint64_t order_id, std::uint32_t slot) noexcept;
  void index_erase(std::uint64_t order_id) noexcept;

  ExchangeConfig config_;
  std::vector<book::Book> books_;
  std::vector<std::uint32_t> head_;  // first resting order per instrument
  std::vector<std::uint32_t> tail_;
  std::vector<std::int64_t> position_lots_;
  std::vector<Resting> orders_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint64_t> index_keys_;
  std::vector<std::uint32_t> index_slots_;
  std::uint64_t index_mask_ = 0;
  std::size_t open_count_ = 0;
  std::vector<Inbound> inbound_;
  std::size_t inbound_head_ = 0;
  std::vector<ExecutionReport> reports_;
  std::size_t report_head_ = 0;
  Rng order_rng_;
  Rng response_rng_;
  Rng queue_rng_;
  std::int64_t clock_ns_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_arrival_ns_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_report_local_ns_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t feed_exchange_ns_ = 0;  // times of the last message recorded in feed_latency_
  std::int64_t feed_local_ns_ = 0;
  std::uint64_t next_trade_id_ = 1;
  book::ApplyError book_error_ = book::ApplyError::kOk;
  FillListener* fill_listener_ = nullptr;
  ExchangeStats stats_;
  common::Histogram feed_latency_;
  common::Histogram order_latency_;
  common::Histogram response_latency_;
};

}  // namespace fastcore::sim
