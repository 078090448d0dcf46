#pragma once
/// Incremental per-instrument signal features, updated on book and trade events, and a weighted
/// composite with an entry decision.
///
/// Floats are fine here (signals, not money). Time-decayed averages use the event timestamps:
///   alpha(dt) = 1 - 2^(-dt / half_life)    (half the weight is older than one half-life)
///   first sample:  seeds the average (value = sample); nothing to decay from yet.
///   dt <= 0:       alpha = 0: no time has passed (or the event is late), so an average does not move
///                  and its clock never goes back; decayed sums (trade flow) still add the sample
///                  undecayed, so several trades printed at one timestamp all count.
/// "No value": an empty side or a crossed book has no meaningful mid, so mid, microprice, spread,
/// imbalance and the mid-EMA deviation report no value (bit clear in valid_mask(), never NaN) and the
/// averages (mid EMA, volatility) keep their last state until the book is sane again. A composite
/// that needs a feature without a value has no value and its decision is 0 (flat).
/// Deferred decay (exact in arithmetic, rounding aside): while the mid stays put, an update only moves
/// the averages toward the same mid (EMA) or decays them (the squared log return is 0), and k such steps
/// of dt_1..dt_k compose into one step of their sum: 2^(-dt_1/h) x ... x 2^(-dt_k/h) = 2^(-sum/h). So an
/// update that leaves the mid unchanged only advances the clock; the pending decay is applied by the next
/// update that moves the mid, and computed (never stored) when mid_ema, mid_ema_dev or volatility is
/// read. Reading therefore never changes later values. Against the step-by-step form the results differ
/// by rounding only (a few ulp per step, tested against the reference at 1e-12 relative).
/// Nothing here allocates after construction.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "fastcore/book/book.hpp"
#include "fastcore/common/event.hpp"

namespace fastcore::signal {

/// The features a FeatureState keeps, in the order of FeatureState::values().
enum class Feature : std::uint8_t {
  kMicroprice = 0,     ///< Size-weighted mid, ticks.
  kMicroOffset = 1,    ///< (microprice - mid) / (spread / 2), in [-1, 1]: top-of-book pressure.
  kImbalance = 2,      ///< Top-N (bid qty - ask qty) / (bid qty + ask qty), in [-1, 1].
  kSpread = 3,         ///< Best ask - best bid, ticks (> 0).
  kMid = 4,            ///< Mid, ticks.
  kMidEma = 5,         ///< Time-decayed EMA of mid, ticks.
  kMidEmaDev = 6,      ///< mid - EMA of mid, ticks (positive: above its recent average).
  kVolatility = 7,     ///< sqrt(EWMA of squared log returns of mid), per book update (dimensionless).
  kTradeFlow = 8,      ///< Decayed (buy - sell) / (buy + sell) traded volume, in [-1, 1].
};
/// Number of features.
inline constexpr std::size_t kFeatureCount = 9;

/// Stable lower-case name of a feature ("microprice", "imbalance", ...), static storage.
const char* feature_name(Feature feature) noexcept;
/// Feature named `name`; false when no feature has that name.
[[nodiscard]] bool try_parse_feature(std::string_view name, Feature& out) noexcept;

/// Why a configuration was refused.
enum class SignalError : std::uint8_t {
  kOk = 0,
  kBadHalfLife,     ///< A half-life <= 0.
  kBadDepth,        ///< depth_levels outside 1..kMaxDepthLevels.
  kBadWeight,       ///< A weight is NaN or infinite.
  kBadThreshold,    ///< Threshold NaN, infinite or < 0.
  kUnknownFeature,  ///< A feature name that feature_name() does not know.
  kUnknownInstrument,  ///< instrument_id >= SignalSet::size().
};

/// Readable text for a SignalError (static storage).
const char* describe(SignalError error) noexcept;

/// Largest top-N depth: the walk is per update, so N stays small.
inline constexpr std::uint32_t kMaxDepthLevels = 64;

/// Per-instrument feature parameters.
struct FeatureConfig {
  std::int64_t mid_half_life_ns = 1'000'000'000;   ///< Half-life of the mid EMA.
  std::int64_t vol_half_life_ns = 10'000'000'000;  ///< Half-life of the squared-log-return EWMA.
  std::int64_t flow_half_life_ns = 1'000'000'000;  ///< Half-life of the traded buy/sell volumes.
  std::uint32_t depth_levels = 5;                  ///< N of the top-N imbalance, per side.
};

/// kOk when `config` is usable.
[[nodiscard]] SignalError validate(const FeatureConfig& config) noexcept;

/// 1 - 2^(-dt/half_life); 0 for dt <= 0. half_life_ns > 0 (validated by the caller).
[[nodiscard]] inline double decay_alpha(std::int64_t dt_ns, std::int64_t half_life_ns) noexcept {
  if (dt_ns <= 0) return 0.0;
  return 1.0 - std::exp2(-static_cast<double>(dt_ns) / static_cast<double>(half_life_ns));
}

/// decay_alpha() with 1 / half_life computed once (the hot path: a multiply instead of a division).
/// dt x (1 / h) is within 1.5 ulp of dt / h, so alpha differs from decay_alpha() by at most ~2e-16 x
/// (dt / h) x ln 2 relative to 2^(-dt/h) (below 1e-15 relative for any dt): far inside every tolerance
/// a signal has, and tested against decay_alpha().
[[nodiscard]] inline double decay_alpha_scaled(std::int64_t dt_ns, double inverse_half_life) noexcept {
  if (dt_ns <= 0) return 0.0;
  return 1.0 - std::exp2(-static_cast<double>(dt_ns) * inverse_half_life);
}

/// Timestamp a signal uses for an event: the exchange's when known (non-zero), else the local one.
// A feed that stamps snapshots with local time only mixes the two clocks at the snapshot boundary:
// the first dt after it is off by the feed's latency (one sample; dt <= 0 is handled as above).
[[nodiscard]] inline std::int64_t event_time_ns(const common::Event& event) noexcept {
  return event.ts_exchange_ns != 0 ? event.ts_exchange_ns : event.ts_local_ns;
}

/// The features of one instrument. Fixed size, no allocation; O(1) per tracked book update except
/// when a side must be walked again (O(depth_levels)).
///
/// Tracked top-N sums (on_book_tracked): per side the sum of the best N sizes, the number of levels in
/// it and the N-th level's price (the edge) are kept from the notes. A note below the edge changes
/// nothing; a new size at a level inside adjusts the sum by new - old (the old size as the book's
/// update reported it, Book::try_apply(event, old_qty)); a level appearing inside pushes the N-th
/// out and a level going pulls the next one in, found by probing at most kMaxProbes ticks next to the
/// edge with BookSide::qty_at. Whatever a note cannot settle that way (a clear, an unknown old size,
/// a sparse book, a side at its cap) walks the side again. Exact: the sums are integers below 2^53,
/// tested equal to a full recompute after random order flow.
// Cache-line aligned: 312 bytes at a 312-byte stride straddled six lines for most instruments, and a
// prefetch of five lines from the start missed the sixth; aligned, a state is exactly five lines.
class alignas(64) FeatureState {
 public:
  /// Unchecked config: call validate() first (SignalSet does).
  explicit FeatureState(const FeatureConfig& config = {}) noexcept
      : config_(config),
        inverse_mid_half_life_(1.0 / static_cast<double>(config.mid_half_life_ns)),
        inverse_vol_half_life_(1.0 / static_cast<double>(config.vol_half_life_ns)),
        inverse_flow_half_life_(1.0 / static_cast<double>(config.flow_half_life_ns)) {}

  /// Updates book features from `book` as of `ts_ns`. Call once the book is consistent (after an event
  /// with kFlagLastInMessage). An empty side or crossed book clears the instantaneous features.
  void on_book(const book::Book& book, std::int64_t ts_ns) noexcept;
  /// on_book() for callers that pass every level event of this instrument to note_level() first: the
  /// top-N sums are kept incrementally from the notes (a side is walked again only when a note could not
  /// tell what changed), and when no note touched the top N since the last update the book features are
  /// not recomputed (their inputs did not change). Same results as on_book() under that contract.
  void on_book_tracked(const book::Book& book, std::int64_t ts_ns) noexcept {
    // Nothing inside the top N changed since the last sane update: the book features (and the book's
    // sanity, which only the best levels decide) are as they were; only the clock moves.
    if (depth_dirty_ != 0 && !update_book_features(book)) return;
    const double mid = values_[static_cast<std::size_t>(Feature::kMid)];
    const std::int64_t dt = ts_ns - mid_ts_ns_;
    // The mid did not move since the last sample with time behind it, and that sample left both
    // averages tracking it: this update is a pure decay of both, deferred (see the header). 77 % of the
    // synthetic market's book messages leave the mid alone.
    if (dt > 0 && has_mid_ema_ && has_vol_ && has_ref_mid_ && mid == ema_mid_ && mid == ref_mid_) [[likely]] {
      mid_ts_ns_ = ts_ns;
      views_stale_ = true;
      ++book_updates_;
      return;
    }
    update_averages(mid, dt, ts_ns);
  }
  /// Records that a level event (kDelta, kSnapshotLevel, kClear) was applied to `book`, this instrument's
  /// book. `old_qty`: the level's size before the event, as the book's update reported it
  /// (Book::try_apply(event, old_qty)); -1 when unknown (a change inside the top N then walks that side again at the
  /// next update).
  void note_level(const common::Event& event, std::int64_t old_qty, const book::Book& book) noexcept {
    const auto side = static_cast<unsigned>(event.side);
    const std::int64_t key = edge_key(event);
    // Below the N-th level nothing in the top N changes (most events of a depth feed).
    if (key < depth_edge_key_[side & 1U] && event.kind != common::EventKind::kClear && side <= 1U) [[likely]] return;
    if (event.kind == common::EventKind::kClear || side > 1U || event.px_ticks == std::numeric_limits<std::int64_t>::min())
        [[unlikely]] {
      depth_dirty_ = kAllDirty;  // a clear, or fields the book refuses: walk both sides (correct whatever happened)
      return;
    }
    // A side to be walked is recomputed anyway (and kTopChanged was set with its walk bit).
    if ((static_cast<unsigned>(depth_dirty_) >> side & 1U) != 0) return;
    const std::int64_t qty = event.qty_lots;
    if (old_qty > 0 && qty > 0) [[likely]] {  // a new size at a level of the top N: same levels, new sum (exact)
      depth_qty_[side] += static_cast<double>(qty) - static_cast<double>(old_qty);
      depth_dirty_ = static_cast<std::uint8_t>(depth_dirty_ | kTopChanged);
      return;
    }
    if ((old_qty | qty) == 0) return;  // a cancel where no level rests: nothing changed
    note_levels_changed(side, key, old_qty, qty, book);
  }
  /// Whether note_level() ignores a level update (kDelta or kSnapshotLevel) on `side` (0 bids, 1 asks) at
  /// `key` (the price's key on that side, as Book keys it: price for bids, -price for asks): true when it
  /// is below the N-th level of its side, where nothing the signal keeps changes (whatever the sizes).
  /// Lets a caller apply runs of such events to the book without notes (the engine); the answer changes
  /// only through notes of other events and book updates (on_book_tracked), so it holds for a whole run
  /// between those.
  [[nodiscard]] bool ignores_level(std::size_t side, std::int64_t key) const noexcept {
    return key < depth_edge_key_[side & 1U];
  }
  /// note_level() without the level's previous quantity: any change inside the top N walks the side again.
  void note_level(const common::Event& event) noexcept;
  /// Adds a kTrade event to the trade flow (aggressor kBid = buy); other kinds are ignored.
  void on_trade(const common::Event& trade) noexcept;
  /// Forgets every value (e.g. after a reconnect); the configuration stays.
  void reset() noexcept;

  /// Value of `feature`, or nullopt when it has none (see the header comment).
  [[nodiscard]] std::optional<double> get(Feature feature) const noexcept {
    const auto index = static_cast<std::size_t>(feature);
    if ((valid_ >> index & 1U) == 0) return std::nullopt;
    return values(1U << index)[index];
  }
  /// Raw values by Feature index; meaningful only where valid_mask() has the bit set.
  [[nodiscard]] const std::array<double, kFeatureCount>& values() const noexcept { return values(~0U); }
  /// values() where only the features whose bit is in `needed` must be current: mid_ema, mid_ema_dev and
  /// volatility are computed from the deferred state when read (see the header comment), so a composite
  /// that weights none of them never pays for their exp2 and square root.
  [[nodiscard]] const std::array<double, kFeatureCount>& values(std::uint32_t needed) const noexcept {
    if (views_stale_ && (needed & kDeferredMask) != 0) fill_views();
    return values_;
  }  /// Bit i set when Feature i has a value.
  [[nodiscard]] std::uint32_t valid_mask() const noexcept { return valid_; }
  /// Book updates that had a sane book (both sides, not crossed).
  [[nodiscard]] std::uint64_t book_updates() const noexcept { return book_updates_; }
  /// Trades added to the flow.
  [[nodiscard]] std::uint64_t trades() const noexcept { return trades_; }
  [[nodiscard]] const FeatureConfig& config() const noexcept { return config_; }

 private:
  void set(Feature feature, double value) noexcept {
    values_[static_cast<std::size_t>(feature)] = value;
    valid_ |= 1U << static_cast<unsigned>(feature);
  }

  // depth_dirty_ bits: kWalkBids / kWalkAsks: that side's sum must be walked again; kTopChanged: a
  // note touched the top N since the last sane update, so the book features must be recomputed.
  static constexpr std::uint8_t kTopChanged = 4;
  static constexpr std::uint8_t kAllDirty = 7;
  // Edge key of a side with fewer than N levels: every price is inside its top N.
  static constexpr std::int64_t kNoEdge = std::numeric_limits<std::int64_t>::min();
  // Ticks note_level() probes next to the N-th level for the level entering or leaving the top N before
  // it gives up and walks the side (most books are dense near the top).
  static constexpr int kMaxProbes = 4;
  static constexpr std::uint32_t kDeferredMask = (1U << static_cast<unsigned>(Feature::kMidEma)) |
                                                 (1U << static_cast<unsigned>(Feature::kMidEmaDev)) |
                                                 (1U << static_cast<unsigned>(Feature::kVolatility));
  /// Writes mid_ema, mid_ema_dev and volatility into values_ from the deferred state (no state change).
  void fill_views() const noexcept;
  /// Applies the decay pending since decay_from_ns_ to ema_ and var_ (the mid stayed at ema_mid_).
  void settle() noexcept;
  /// Recomputes the instantaneous book features (walking the dirty sides); false when the book is not sane.
  bool update_book_features(const book::Book& book) noexcept;
  /// The rest of note_level(): a level inside the top N appeared or went, or its previous size is unknown
  /// (old_qty < 0), at `key` on `side` (0 bids, 1 asks), new size `qty`. Out of line: rarer, and its
  /// probes need registers.
  void note_levels_changed(unsigned side, std::int64_t key, std::int64_t old_qty, std::int64_t qty,
                           const book::Book& book) noexcept;
  /// The mid EMA and volatility after a sane update that is not a pure deferred decay.
  void update_averages(double mid, std::int64_t dt, std::int64_t ts_ns) noexcept;
  /// The event's price as a key of its side (price for bids, -price for asks, "better" is "greater"), for
  /// any field values: the side is taken modulo 2 and the negation is unsigned (INT64_MIN stays itself).
  /// Equal to BookSide::to_key for every event the book accepts.
  static std::int64_t edge_key(const common::Event& event) noexcept {
    const std::uint64_t mask = 0ULL - (static_cast<std::uint64_t>(event.side) & 1U);
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(event.px_ticks) ^ mask) - mask);
  }
  /// A side whose sum must be walked again.
  void mark_walk(unsigned side) noexcept { depth_dirty_ = static_cast<std::uint8_t>(depth_dirty_ | (1U << side) | kTopChanged); }

  FeatureConfig config_;
  // 1 / half-life of each average: the per-update decay multiplies instead of dividing.
  double inverse_mid_half_life_;
  double inverse_vol_half_life_;
  double inverse_flow_half_life_;
  // Mutable: the deferred slots (kDeferredMask) are views filled when read, see values().
  mutable std::array<double, kFeatureCount> values_{};
  mutable bool views_stale_ = false;  // ema_, var_ or the clock changed since the views were filled
  std::uint32_t valid_ = 0;
  bool has_mid_ema_ = false;
  bool has_vol_ = false;
  bool has_flow_ = false;
  std::int64_t mid_ts_ns_ = 0;        // clock of the mid EMA and the volatility (latest book time)
  std::int64_t decay_from_ns_ = 0;    // ema_ and var_ are as of this time; decay up to mid_ts_ns_ is pending
  double ema_ = 0.0;                  // EMA of mid as of decay_from_ns_
  double ema_mid_ = 0.0;              // the mid of every update in (decay_from_ns_, mid_ts_ns_]
  double ref_mid_ = 0.0;              // mid the next log return is taken from (when has_ref_mid_)
  bool has_ref_mid_ = false;
  double var_ = 0.0;                  // EWMA of squared log returns as of decay_from_ns_
  std::int64_t flow_ts_ns_ = 0;
  double buy_volume_ = 0.0;           // decayed lots bought by aggressors
  double sell_volume_ = 0.0;
  std::uint64_t book_updates_ = 0;
  std::uint64_t trades_ = 0;
  // Top-N state per side [bid, ask], kept by note_level() and the walks: the sum of the best N levels'
  // quantities (exact: integers below 2^53), how many levels it has (< N only when the side has fewer),
  // and the key of the N-th level (price for bids, -price for asks, so "better" is "greater" on both
  // sides; kNoEdge when the side has fewer than N levels). A note at a key below the edge changes nothing.
  double depth_qty_[2] = {0.0, 0.0};
  std::int64_t depth_edge_key_[2] = {kNoEdge, kNoEdge};
  std::uint8_t depth_count_[2] = {0, 0};
  std::uint8_t depth_dirty_ = kAllDirty;
};

static_assert(sizeof(FeatureState) % 64 == 0, "a feature state is whole cache lines (engine prefetch)");

/// Output of a Composite.
enum class CompositeMode : std::uint8_t {
  kRaw = 0,      ///< The weighted sum as is.
  kClamped = 1,  ///< The weighted sum clamped to [-1, 1].
};

/// One composite evaluation.
struct CompositeValue {
  double value = 0.0;    ///< Weighted sum (clamped in kClamped mode); 0 when !has_value.
  bool has_value = false;  ///< False when a weighted feature had no value.
  std::int8_t decision = 0;  ///< +1 when value >= threshold, -1 when value <= -threshold, else 0.
};

/// Weighted sum of features with an entry threshold. A zero weight leaves a feature out entirely (its
/// missing value does not matter).
class Composite {
 public:
  Composite() = default;

  /// Sets the weight of one feature; kBadWeight for NaN or infinity (nothing changes).
  [[nodiscard]] SignalError try_set_weight(Feature feature, double weight) noexcept;
  /// Sets the entry threshold (>= 0; with 0 any non-zero value enters). kBadThreshold otherwise.
  [[nodiscard]] SignalError try_set_threshold(double threshold) noexcept;
  void set_mode(CompositeMode mode) noexcept { mode_ = mode; }

  /// Evaluates on one instrument's features: kFeatureCount multiply-adds, no branches per feature.
  [[nodiscard]] CompositeValue evaluate(const FeatureState& state) const noexcept {
    CompositeValue out;
    if ((state.valid_mask() & needed_) != needed_) return out;
    const std::array<double, kFeatureCount>& values = state.values(needed_);
    double sum = 0.0;
    // Only the weighted features, in feature order: the sum is one chain of dependent adds, so each
    // term left out is an add's latency off every evaluation (3 terms instead of 9 for a typical
    // composite). Exact against adding every feature with its zero weight masked in: such a term is
    // +0.0, and x + (+0.0) == x for every x but -0.0, which this sum never is (it starts at +0.0, and
    // a round-to-nearest sum is -0.0 only when both operands are). Unweighted slots are never read.
    for (std::uint32_t k = 0; k < term_count_; ++k) sum += term_weights_[k] * values[term_features_[k]];
    // Comparisons, not fmin/fmax: those are library calls unless NaN semantics are relaxed (sum is never NaN).
    if (mode_ == CompositeMode::kClamped) sum = sum > 1.0 ? 1.0 : sum < -1.0 ? -1.0 : sum;
    out.value = sum;
    out.has_value = true;
    // Strict sign tests first: with threshold 0 a value of exactly 0 stays flat.
    out.decision = static_cast<std::int8_t>(sum > 0.0 && sum >= threshold_ ? 1 : sum < 0.0 && -sum >= threshold_ ? -1 : 0);
    return out;
  }

  [[nodiscard]] double weight(Feature feature) const noexcept { return weights_[static_cast<std::size_t>(feature)]; }
  [[nodiscard]] double threshold() const noexcept { return threshold_; }
  [[nodiscard]] CompositeMode mode() const noexcept { return mode_; }

 private:
  /// Rebuilds the packed terms from weights_ (after a weight changed).
  void pack_terms() noexcept;

  std::array<double, kFeatureCount> weights_{};
  std::uint32_t needed_ = 0;  // bit i set when weights_[i] != 0
  // The non-zero weights packed in feature order, with their features: what evaluate() sums.
  std::array<double, kFeatureCount> term_weights_{};
  std::array<std::uint8_t, kFeatureCount> term_features_{};
  std::uint32_t term_count_ = 0;
  double threshold_ = 1.0;
  CompositeMode mode_ = CompositeMode::kClamped;
};

/// FeatureStates for many instruments, indexed by instrument id (the same ids as a BookSet).
class SignalSet {
 public:
  /// `count` instruments sharing one configuration; validate(config) first.
  SignalSet(std::size_t count, const FeatureConfig& config) : states_(count, FeatureState(config)) {}

  [[nodiscard]] std::size_t size() const noexcept { return states_.size(); }
  /// Unchecked: callers test id < size().
  [[nodiscard]] FeatureState& operator[](std::size_t id) noexcept { return states_[id]; }
  [[nodiscard]] const FeatureState& operator[](std::size_t id) const noexcept { return states_[id]; }

  /// Routes one event already applied to `book` (the book of event.instrument_id): trades go to the
  /// flow, and a book-changing event flagged kFlagLastInMessage updates the book features. Returns
  /// true when the book features were updated. Every event of the instrument must pass through here
  /// (the top-N sums rely on it; else call on_book()). `old_qty`: the level's size before the event, as
  /// Book::try_apply(event, old_qty) reported it (-1 when unknown: correct, but
  /// a change inside the top N then walks the side again). Unchecked id: callers test id < size().
  bool on_event(const common::Event& event, const book::Book& book, std::int64_t old_qty = -1) noexcept {
    FeatureState& state = states_[event.instrument_id];
    if (event.kind == common::EventKind::kTrade) {
      state.on_trade(event);
      return false;
    }
    if (static_cast<unsigned>(event.kind) - 1U >= 3U) return false;  // not kClear, kSnapshotLevel, kDelta
    state.note_level(event, old_qty, book);
    if ((event.flags & common::kFlagLastInMessage) == 0) return false;
    state.on_book_tracked(book, event_time_ns(event));
    return true;
  }

 private:
  std::vector<FeatureState> states_;
};

}  // namespace fastcore::signal
