#pragma once
/// The multi-instrument decision engine: market events in, order intents out.
///
///   events ─> Book ─> FeatureState ─> (message end) Strategy ─> RiskEngine::try_submit ─> OrderIntent buffer
///   reports ─> RiskEngine lifecycle + PositionBook (fills, P&L -> loss limits) ─> Strategy ─> intents
///
/// It owns one of each existing component (BookSet, SignalSet + Composite, RiskEngine, PositionBook) and
/// wires them; it re-implements none of them. Single-threaded; everything is allocated in try_init, so
/// on_events / on_reports never allocate. Intents accumulate in a fixed-capacity buffer the caller
/// drains (intents() then clear_intents()); when it is full new orders are refused (counted), never lost
/// half-way. Time: every decision is stamped with the triggering event's ts_local_ns (reports: their
/// ts_local_ns), so a replay gives the same intents byte for byte; EngineConfig::wall_clock stamps with
/// the wall clock instead (live: ts_ns - ts_trigger_local_ns is then the tick-to-decision).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fastcore/book/book_set.hpp"
#include "fastcore/common/clock.hpp"
#include "fastcore/common/event_sink.hpp"
#include "fastcore/common/histogram.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/engine/strategy.hpp"
#include "fastcore/position/position_book.hpp"
#include "fastcore/risk/risk_check.hpp"
#include "fastcore/signal/features.hpp"

namespace fastcore::engine {

/// Sizes and switches of an engine, fixed at try_init.
struct EngineConfig {
  signal::FeatureConfig features;                      ///< Same for every instrument.
  std::uint32_t max_levels_per_side = book::Book::kDefaultMaxLevels;
  std::uint32_t order_capacity = 1U << 16;             ///< Working orders at once (engine and risk tables).
  std::uint32_t intent_capacity = 1U << 16;            ///< Intents buffered between clear_intents() calls.
  std::uint32_t dedup_capacity = position::PositionBook::kDefaultDedupCapacity;
  bool timing = true;       ///< Record the stage histograms (four cycle-counter reads per timed message).
  std::uint32_t timing_sample = 1;  ///< Time one message in this many (>= 1); orders and fills are always timed.
  bool wall_clock = false;  ///< Stamp decisions with the wall clock instead of the event's ts_local_ns.
  /// Skip a strategy's on_decision where its DecisionGate is closed; false calls it at every decision
  /// point (the reference the tests compare the gated runs with: same intents, trades and P&L).
  bool decision_gates = true;
};

/// Why an engine call was refused.
enum class EngineError : std::uint8_t {
  kOk = 0,
  kBadConfig,          ///< No instruments, a capacity of 0 or too large, or bad feature parameters.
  kRiskInit,           ///< RiskEngine::try_init refused the instruments.
  kPositionInit,       ///< PositionBook::try_init refused the instruments (e.g. overflowing steps).
  kUnknownInstrument,  ///< Instrument id out of range.
  kBadReport,          ///< Report with an unknown kind, a fill of qty <= 0 or without a trade id, or an overfill.
  kBadScope,           ///< Unknown venue id for a trading state.
  kBadEvent,           ///< An event was refused by its book (ApplyResult::book_error says why).
};

/// Readable text for an EngineError (static storage, never null).
const char* describe(EngineError error) noexcept;

/// Stages with a latency histogram.
enum class Stage : std::uint8_t {
  kBook = 0,            ///< Applying one message's events to its book (per message).
  kSignal = 1,          ///< Feature update at the message end plus the composite (per message).
  kStrategy = 2,        ///< The decision: mark/P&L refresh and the strategy with its risk checks (per message).
  kRisk = 3,            ///< One RiskEngine::try_submit (per order).
  kPosition = 4,        ///< One fill into PositionBook and risk, P&L to loss limits included (per fill).
  kTickToDecision = 5,  ///< First event of a message to the end of its decision (per message).
};
/// Number of stages.
inline constexpr std::size_t kStageCount = 6;
/// Stable lower-case name of a stage ("book", ..., "tick_to_decision"), static storage.
const char* stage_name(Stage stage) noexcept;

/// What the engine has done so far (monotonic; reset only with a new engine).
struct EngineCounters {
  std::uint64_t events = 0;          ///< Events applied.
  std::uint64_t messages = 0;        ///< Events with kFlagLastInMessage (decision points).
  std::uint64_t intents = 0;         ///< Intents emitted (all kinds).
  std::uint64_t new_orders = 0;      ///< kNew intents.
  std::uint64_t cancels = 0;         ///< kCancel intents.
  std::uint64_t replaces = 0;        ///< kReplace intents.
  std::uint64_t risk_refusals = 0;   ///< Orders the risk check refused (sum of refusals_by_reason).
  std::uint64_t output_full = 0;     ///< Orders not sent because the intent buffer was full.
  std::uint64_t reports = 0;         ///< Reports applied.
  std::uint64_t fills = 0;           ///< Fills applied to positions.
  std::uint64_t duplicate_fills = 0; ///< Fills ignored because their trade id was seen.
  std::uint64_t late_fills = 0;      ///< Fills of orders no longer working (raced a cancel): position only.
  std::uint64_t unknown_reports = 0; ///< Reports about order ids this engine does not have working.
  std::array<std::uint64_t, risk::kRiskReasonCount> refusals_by_reason{};
};

/// Result of try_on_events / try_on_reports: records applied before the first refused one.
struct ApplyResult {
  std::size_t applied = 0;
  book::ApplyError book_error = book::ApplyError::kOk;  ///< Events: why the first refused event was refused.
  EngineError error = EngineError::kOk;                 ///< kOk when everything was applied.
};

class Engine final : public common::EventSink {
 public:
  /// Largest order_capacity (the risk table's limit).
  static constexpr std::uint32_t kMaxOrderCapacity = risk::RiskEngine::kMaxOrderCapacity;
  /// From this many instruments on, the engine fetches the state of upcoming events and reports ahead
  /// (below it that state stays cached and the prefetches would only cost instructions).
  static constexpr std::size_t kPrefetchFromInstruments = book::BookSet::kPrefetchFromBooks;

  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Sets up books, signals, risk and positions for `instruments` (ids = indexes; venues group them by
  /// name, all in one quote currency) and starts `strategy` (not owned; may be null: no decisions).
  /// `books` (not owned, may be null: the engine makes its own) lets the caller share a BookSet of
  /// instruments.size() books, e.g. with a feed handler or the Python BookSet; it is cleared. Allocates
  /// here only.
  [[nodiscard]] EngineError try_init(std::span<const common::Instrument> instruments, const EngineConfig& config,
                                     Strategy* strategy, book::BookSet* books = nullptr);

  // ---- market data -------------------------------------------------------------------------------
  /// EventSink: try_on_events, ignoring the result (read last_apply() for it).
  void on_events(std::span<const common::Event> events) noexcept override { last_apply_ = try_on_events(events); }
  /// Applies events in order; stops at the first refused event (unknown instrument, bad level): events
  /// before it stay applied. At each kFlagLastInMessage the instrument's strategy decision runs.
  [[nodiscard]] ApplyResult try_on_events(std::span<const common::Event> events) noexcept;
  /// Result of the last on_events call.
  [[nodiscard]] const ApplyResult& last_apply() const noexcept { return last_apply_; }

  /// Marks an instrument's book as being resynchronised (the feed's call): new orders are refused by
  /// risk (kBookResyncing) until cleared; reduce-only exits stay allowed where risk allows them.
  [[nodiscard]] EngineError try_set_resyncing(std::uint32_t instrument_id, bool resyncing) noexcept;
  [[nodiscard]] bool resyncing(std::uint32_t instrument_id) const noexcept { return hot_[instrument_id].resyncing != 0; }

  // ---- execution reports ------------------------------------------------------------------------
  /// Applies reports in order: ack / reject / fill / cancelled into the risk lifecycle, fills into
  /// positions (P&L -> loss limits), then the strategy. Reports about unknown orders are counted and
  /// skipped (a fill of one of our finished orders still moves the position); a malformed report stops
  /// the batch with kBadReport.
  [[nodiscard]] ApplyResult try_on_reports(std::span<const ExecutionReport> reports) noexcept;

  // ---- orders (for strategies) ------------------------------------------------------------------
  /// Risk-checks `spec` and, when it passes, emits a kNew intent with a fresh client order id.
  [[nodiscard]] SubmitResult submit(const OrderSpec& spec) noexcept;
  /// Emits a kCancel for a working order; false when unknown, already being cancelled, or buffer full.
  [[nodiscard]] bool cancel(std::uint64_t order_id) noexcept;
  /// Emits a kReplace (new price and quantity, same id) after the risk check of the new terms; the
  /// old terms are restored if the venue rejects it.
  [[nodiscard]] SubmitResult replace(std::uint64_t order_id, std::int64_t px_ticks, std::int64_t qty_lots) noexcept;
  /// Working order by id, or null.
  [[nodiscard]] const WorkingOrder* find_order(std::uint64_t order_id) const noexcept;
  /// Time of the decision or report being processed (see the header comment).
  [[nodiscard]] std::int64_t now_ns() const noexcept { return now_ns_; }

  // ---- kill switch ------------------------------------------------------------------------------
  /// Sets the manual trading state of a scope (id ignored for kGlobal); HALTED emits cancels for every
  /// working order in the scope.
  [[nodiscard]] EngineError try_set_state(risk::Scope scope, std::uint32_t id, risk::TradingState state) noexcept;
  /// Starts a new trading day for the loss limits (day P&L counts from here).
  void reset_day() noexcept;

  // ---- state --------------------------------------------------------------------------------------
  [[nodiscard]] std::uint32_t instrument_count() const noexcept { return static_cast<std::uint32_t>(instruments_.size()); }
  [[nodiscard]] const common::Instrument& instrument(std::uint32_t id) const noexcept { return instruments_[id]; }
  [[nodiscard]] const book::BookSet& books() const noexcept { return *books_; }
  [[nodiscard]] const signal::SignalSet& signals() const noexcept { return signals_; }
  /// The composite the decision points evaluate; configure before trading.
  [[nodiscard]] signal::Composite& composite() noexcept { return composite_; }
  [[nodiscard]] const signal::Composite& composite() const noexcept { return composite_; }
  /// Risk limits are configured here (try_set_limits ...); lifecycle calls belong to the engine.
  [[nodiscard]] risk::RiskEngine& risk() noexcept { return risk_; }
  [[nodiscard]] const risk::RiskEngine& risk() const noexcept { return risk_; }
  [[nodiscard]] const position::PositionBook& positions() const noexcept { return positions_; }
  /// Last trade price of an instrument; false when none seen.
  [[nodiscard]] bool last_trade(std::uint32_t id, std::int64_t& px_ticks) const noexcept {
    px_ticks = hot_[id].last_trade_px;
    return hot_[id].has_last_trade != 0;
  }
  /// Day P&L (realized + unrealized at mid - fees, risk money units) of a venue, or of everything (-1).
  [[nodiscard]] __int128 day_pnl(int venue_id) const noexcept;
  /// The risk check's view of an instrument's market now.
  [[nodiscard]] risk::MarketView market_view(std::uint32_t instrument_id) const noexcept;
  [[nodiscard]] const EngineCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const common::Histogram& histogram(Stage stage) const noexcept {
    return histograms_[static_cast<std::size_t>(stage)];
  }
  void reset_histograms() noexcept;
  [[nodiscard]] bool timing() const noexcept { return config_.timing; }
  void set_timing(bool on) noexcept { config_.timing = on; }
  /// Times one message in `every` (>= 1; 0 is ignored).
  void set_timing_sample(std::uint32_t every) noexcept {
    if (every == 0) return;
    config_.timing_sample = every;
    sample_countdown_ = 1;
  }
  [[nodiscard]] std::uint32_t timing_sample() const noexcept { return config_.timing_sample; }
  /// Whether closed decision gates skip on_decision (EngineConfig::decision_gates).
  [[nodiscard]] bool decision_gates() const noexcept { return config_.decision_gates; }
  void set_decision_gates(bool on) noexcept { config_.decision_gates = on; }

  // ---- decision gates (for strategies) ------------------------------------------------------------
  /// Sets when on_decision runs for `instrument_id` (ignored for an unknown id); see DecisionGate.
  void set_decision_gate(std::uint32_t instrument_id, const DecisionGate& gate) noexcept {
    if (instrument_id < gates_.size()) gates_[instrument_id] = gate;
  }
  /// The gate of an instrument (always open until its strategy sets one).
  [[nodiscard]] const DecisionGate& decision_gate(std::uint32_t instrument_id) const noexcept { return gates_[instrument_id]; }

  // ---- output -------------------------------------------------------------------------------------
  /// Intents emitted since the last clear_intents(), in order.
  [[nodiscard]] std::span<const OrderIntent> intents() const noexcept { return {intents_.data(), intent_count_}; }
  void clear_intents() noexcept { intent_count_ = 0; }

 private:
  // Cycle counter without fences: the stage windows are hundreds of cycles, and fences would cost
  // more than the skew they remove.
  static std::uint64_t ticks() noexcept {
#if FASTCORE_HAS_TSC
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(common::monotonic_ns());
#endif
  }
  void record(Stage stage, std::uint64_t t0, std::uint64_t t1) noexcept {
    histograms_[static_cast<std::size_t>(stage)].record(
        static_cast<std::uint64_t>(static_cast<double>(t1 - t0) * ns_per_tick_ + 0.5));
  }

  /// Applies the level updates at the front of `events` (instrument `id`) that do not end their message and
  /// lie below the signal's top N (FeatureState::ignores_level) to `book`; returns how many. Out of line: in
  /// the message loop the run's update had too few registers (five values spilled per event).
  [[gnu::noinline]] static std::size_t apply_quiet_levels(book::Book& book, const signal::FeatureState& features,
                                                          std::span<const common::Event> events,
                                                          std::uint32_t id) noexcept;
  void decide(std::uint32_t id, const common::Event& trigger, const signal::CompositeValue& composite) noexcept;
  /// Whether the strategy's gate for `id` lets this decision point through.
  [[nodiscard]] bool gate_open(std::uint32_t id, const signal::CompositeValue& composite) const noexcept;
  /// Builds the DecisionPoint and calls the strategy (out of line: the gated-off path stays small).
  [[gnu::noinline]] void run_strategy(std::uint32_t id, const common::Event& trigger,
                                      const signal::CompositeValue& composite) noexcept;
  /// Marks a position to a new mid and folds the P&L change in (instruments with a position).
  [[gnu::noinline]] void mark_and_pnl(std::uint32_t id, std::int64_t mid) noexcept;
  void refresh_pnl(std::uint32_t id) noexcept;
  void push_pnl_to_risk(std::uint32_t venue) noexcept;
  void emit_risk_cancels() noexcept;
  bool emit(IntentKind kind, const WorkingOrder& order) noexcept;
  [[nodiscard]] std::uint32_t slot_of(std::uint64_t order_id) const noexcept;
  void free_slot(std::uint32_t slot) noexcept;
  [[nodiscard]] EngineError apply_report(const ExecutionReport& report) noexcept;
  [[nodiscard]] EngineError apply_fill(const ExecutionReport& report, WorkingOrder* order) noexcept;
  /// Starts loading what applying `report` touches (engine order slot and instrument line, position,
  /// risk state, duplicate-check slot), so a batch's cache misses overlap instead of queueing.
  void prefetch_report(const ExecutionReport& report) const noexcept;
  /// Starts loading the position and risk state a mark change of `id` updates (instruments with a position).
  void prefetch_mark(std::uint32_t id) const noexcept;
  /// Starts loading what a risk check of an order on `id` reads (at a non-zero composite decision).
  void prefetch_submit(std::uint32_t id) const noexcept;

  EngineConfig config_;
  std::vector<common::Instrument> instruments_;
  book::BookSet own_books_{0};
  book::BookSet* books_ = &own_books_;  ///< own_books_ or the caller's.
  signal::SignalSet signals_{0, signal::FeatureConfig{}};
  signal::Composite composite_;
  risk::RiskEngine risk_;
  position::PositionBook positions_;
  Strategy* strategy_ = nullptr;

  /// What the engine itself keeps per instrument, packed into one cache line so a message, a mark
  /// change or a fill of an instrument fetches one line here instead of one per array (with 1,000
  /// instruments every one of them is a cold fetch).
  struct alignas(64) InstrumentHot {
    __int128 pnl = 0;                  ///< Last P&L folded into venue_pnl_ / total_pnl_ (risk money units).
    std::int64_t last_trade_px = 0;
    std::int64_t mark_px = 0;          ///< Last mark given to positions/risk (0 = none yet).
    /// Tick-lots -> risk money units (notional factor x 10^(scale - decimals)) and notional units ->
    /// risk money units (the power of ten), when each fits in 63 bits (else 0: the checked 128-bit path).
    /// With both factors and the multiplicand inside int64 the product is one exact 64x64->128 multiply.
    std::int64_t money_per_tick_lot = 0;
    std::int64_t money_per_notional_unit = 0;
    std::uint8_t has_last_trade = 0;
    std::uint8_t resyncing = 0;
    std::uint8_t venue = 0;
  };
  static_assert(sizeof(InstrumentHot) == 64, "an instrument's engine state is one cache line");

  std::vector<InstrumentHot> hot_;
  std::vector<DecisionGate> gates_;  ///< Per instrument; read at every decision point when the gates are on.
  std::vector<std::uint8_t> has_position_;  ///< net != 0: a dense flag so flat instruments skip the mark (1 KB per 1,000).
  std::vector<__int128> venue_pnl_;
  std::vector<__int128> venue_day_start_;
  __int128 total_pnl_ = 0;
  __int128 total_day_start_ = 0;

  // Working orders: the client order id carries its slot in the low slot_bits_ bits and a sequence
  // number above them, so lookup is one index and ids never repeat.
  std::vector<WorkingOrder> orders_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t slot_bits_ = 0;
  std::uint64_t next_sequence_ = 1;
  std::vector<std::uint64_t> risk_cancels_;  ///< Reserved to order_capacity: risk appends without allocating.

  std::vector<OrderIntent> intents_;
  std::size_t intent_count_ = 0;

  std::int64_t now_ns_ = 0;
  std::uint64_t trigger_seq_ = 0;
  std::int64_t trigger_local_ns_ = 0;

  bool in_message_ = false;
  bool timed_message_ = false;
  std::uint32_t sample_countdown_ = 1;
  std::uint64_t message_t0_ = 0;
  double ns_per_tick_ = 1.0;
  std::array<common::Histogram, kStageCount> histograms_{};
  EngineCounters counters_;
  ApplyResult last_apply_;
};

}  // namespace fastcore::engine
