#include "fastcore/engine/engine.hpp"

#include <bit>
#include <limits>

#include "fastcore/risk/book_view.hpp"

namespace fastcore::engine {

namespace {

constexpr std::int64_t clamp_to_int64(__int128 value) noexcept {
  constexpr auto kMax = static_cast<__int128>(std::numeric_limits<std::int64_t>::max());
  constexpr auto kMin = static_cast<__int128>(std::numeric_limits<std::int64_t>::min());
  return static_cast<std::int64_t>(value > kMax ? kMax : value < kMin ? kMin : value);
}

}  // namespace

const char* describe(EngineError error) noexcept {
  switch (error) {
    case EngineError::kOk: return "ok";
    case EngineError::kBadConfig: return "bad engine configuration (no instruments, capacity out of range or bad feature parameters)";
    case EngineError::kRiskInit: return "the risk engine refused the instruments";
    case EngineError::kPositionInit: return "the position book refused the instruments";
    case EngineError::kUnknownInstrument: return "unknown instrument id";
    case EngineError::kBadReport: return "malformed execution report (unknown kind, fill qty <= 0, fill without trade id, or overfill)";
    case EngineError::kBadScope: return "unknown venue id";
    case EngineError::kBadEvent: return "an event was refused by its book (see the book error)";
  }
  return "unknown engine error";
}

const char* stage_name(Stage stage) noexcept {
  switch (stage) {
    case Stage::kBook: return "book";
    case Stage::kSignal: return "signal";
    case Stage::kStrategy: return "strategy";
    case Stage::kRisk: return "risk";
    case Stage::kPosition: return "position";
    case Stage::kTickToDecision: return "tick_to_decision";
  }
  return "unknown";
}

EngineError Engine::try_init(std::span<const common::Instrument> instruments, const EngineConfig& config,
                             Strategy* strategy, book::BookSet* books) {
  if (instruments.empty() || instruments.size() > std::numeric_limits<std::uint32_t>::max() / 2 ||
      config.order_capacity == 0 || config.order_capacity > kMaxOrderCapacity || config.intent_capacity == 0 ||
      config.timing_sample == 0 ||
      config.max_levels_per_side == 0 || signal::validate(config.features) != signal::SignalError::kOk ||
      (books != nullptr && books->size() != instruments.size())) {
    return EngineError::kBadConfig;
  }
  if (risk_.try_init(instruments, config.order_capacity) != risk::OrderError::kOk) return EngineError::kRiskInit;
  if (positions_.try_init(instruments, {}, config.dedup_capacity) != position::PositionError::kOk) {
    return EngineError::kPositionInit;
  }
  config_ = config;
  instruments_.assign(instruments.begin(), instruments.end());
  const std::size_t n = instruments.size();
  if (books != nullptr) {
    books_ = books;
    own_books_ = book::BookSet(0);
    for (std::size_t id = 0; id < n; ++id) {
      (*books_)[id].clear();
      (*books_)[id].set_sequence(0);
    }
  } else {
    own_books_ = book::BookSet(n, config.max_levels_per_side);
    books_ = &own_books_;
  }
  signals_ = signal::SignalSet(n, config.features);
  hot_.assign(n, InstrumentHot{});
  has_position_.assign(n, 0);
  gates_.assign(n, DecisionGate{});
  for (std::uint32_t id = 0; id < n; ++id) {
    InstrumentHot& hot = hot_[id];
    hot.venue = positions_.venue_of(id);
    // Fast-path factors (see InstrumentHot); 0 when one does not fit 63 bits (refresh_pnl then checks).
    __int128 notional = 0;
    __int128 money = 0;
    __int128 per_unit = 0;
    if (positions_.try_to_notional(id, 1, notional) == position::PositionError::kOk &&
        positions_.try_to_book_units(id, notional, money) == position::PositionError::kOk && money > 0 &&
        money <= std::numeric_limits<std::int64_t>::max()) {
      hot.money_per_tick_lot = static_cast<std::int64_t>(money);
    }
    if (positions_.try_to_book_units(id, 1, per_unit) == position::PositionError::kOk && per_unit > 0 &&
        per_unit <= std::numeric_limits<std::int64_t>::max()) {
      hot.money_per_notional_unit = static_cast<std::int64_t>(per_unit);
    }
  }
  venue_pnl_.assign(positions_.venues().size(), 0);
  venue_day_start_.assign(positions_.venues().size(), 0);
  total_pnl_ = 0;
  total_day_start_ = 0;

  slot_bits_ = static_cast<std::uint32_t>(std::bit_width(config.order_capacity - 1U));
  orders_.assign(config.order_capacity, WorkingOrder{});
  free_slots_.resize(config.order_capacity);
  // Slot 0 is handed out first (the stack pops from the back).
  for (std::uint32_t i = 0; i < config.order_capacity; ++i) free_slots_[i] = config.order_capacity - 1U - i;
  next_sequence_ = 1;
  risk_cancels_.clear();
  risk_cancels_.reserve(config.order_capacity);
  intents_.assign(config.intent_capacity, OrderIntent{});
  intent_count_ = 0;
  counters_ = EngineCounters{};
  last_apply_ = ApplyResult{};
  reset_histograms();
  in_message_ = false;
  timed_message_ = false;
  sample_countdown_ = 1;
  ns_per_tick_ = common::CycleClock(5'000'000).ns_per_tick();
  strategy_ = strategy;
  if (strategy_ != nullptr) strategy_->on_start(*this);
  return EngineError::kOk;
}

void Engine::reset_histograms() noexcept {
  for (common::Histogram& histogram : histograms_) histogram.reset();
}

EngineError Engine::try_set_resyncing(std::uint32_t instrument_id, bool resyncing) noexcept {
  if (instrument_id >= instruments_.size()) return EngineError::kUnknownInstrument;
  hot_[instrument_id].resyncing = resyncing ? 1 : 0;
  return EngineError::kOk;
}

risk::MarketView Engine::market_view(std::uint32_t instrument_id) const noexcept {
  std::optional<std::int64_t> last;
  const InstrumentHot& hot = hot_[instrument_id];
  if (hot.has_last_trade != 0) last = hot.last_trade_px;
  return risk::market_view((*books_)[instrument_id], last, hot.resyncing != 0);
}

// Inlined into the message loop: at most decision points of a waiting or open strategy nothing needs
// doing beyond the mark, so the common path is a few loads and compares without a call.
[[gnu::always_inline]] inline void Engine::decide(std::uint32_t id, const common::Event& trigger,
                                                  const signal::CompositeValue& composite) noexcept {
  now_ns_ = config_.wall_clock ? common::wall_clock_ns() : trigger.ts_local_ns;
  trigger_seq_ = trigger.seq;
  trigger_local_ns_ = trigger.ts_local_ns;
  // Only instruments with a position (or P&L still to fold in) need a mark: a flat book's unrealized
  // P&L and position notional are zero whatever the price.
  if (has_position_[id] != 0) {
    // The mid moves at a fraction of the messages: the test inline, the revaluation out of line.
    const book::Book& book = (*books_)[id];
    const auto bid = book.best(common::Side::kBid);
    const auto ask = book.best(common::Side::kAsk);
    // No sane mid keeps the last mark. Floor of the mid, so the mark is an exact tick for positions
    // and risk alike.
    if (bid && ask && bid->px_ticks < ask->px_ticks) {
      const std::int64_t mid = bid->px_ticks + (ask->px_ticks - bid->px_ticks) / 2;
      if (mid != hot_[id].mark_px) mark_and_pnl(id, mid);
    }
  }
  if (strategy_ == nullptr) return;
  // Most decision points of a waiting or open strategy change nothing (the bracket's: no new crossing,
  // stop not touched): the gate tells those apart for the price of a compare or two, instead of building
  // the DecisionPoint and a virtual call per message.
  if (config_.decision_gates && !gate_open(id, composite)) return;
  run_strategy(id, trigger, composite);
}

[[gnu::always_inline]] inline bool Engine::gate_open(std::uint32_t id,
                                                     const signal::CompositeValue& composite) const noexcept {
  const DecisionGate& gate = gates_[id];
  if (gate.always) return true;
  const std::int8_t decision = composite.has_value ? composite.decision : std::int8_t{0};
  if (decision != gate.decision) return true;
  constexpr std::int64_t kNoBid = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kNoAsk = std::numeric_limits<std::int64_t>::max();
  if (gate.bid_at_or_below != kNoBid) {
    const auto bid = (*books_)[id].best(common::Side::kBid);
    if (bid && bid->px_ticks <= gate.bid_at_or_below) return true;
  }
  if (gate.ask_at_or_above != kNoAsk) {
    const auto ask = (*books_)[id].best(common::Side::kAsk);
    if (ask && ask->px_ticks >= gate.ask_at_or_above) return true;
  }
  return false;
}

void Engine::run_strategy(std::uint32_t id, const common::Event& trigger,
                          const signal::CompositeValue& composite) noexcept {
  DecisionPoint point;
  point.composite = composite;
  point.ts_ns = now_ns_;
  point.trigger = &trigger;
  point.book = &(*books_)[id];
  point.features = &signals_[id];
  point.instrument_id = id;
  strategy_->on_decision(*this, point);
}

std::size_t Engine::apply_quiet_levels(book::Book& book, const signal::FeatureState& features,
                                       std::span<const common::Event> events, std::uint32_t id) noexcept {
  return book.apply_levels_while(events, id, common::kFlagLastInMessage,
                                 [&features](const common::Event&, std::size_t side, std::int64_t key) {
                                   return features.ignores_level(side, key);
                                 });
}

ApplyResult Engine::try_on_events(std::span<const common::Event> events) noexcept {
  ApplyResult result;
  const std::size_t count = books_->size();
  const bool timing = config_.timing;
  const std::size_t n = events.size();
  const bool prefetch = count >= kPrefetchFromInstruments;
  for (std::size_t i = 0; i < n; ++i) {
    const common::Event& event = events[i];
    // With many books every message lands on a cold book and feature state: fetch them ahead, the way
    // BookSet::try_apply does (header first, then the level slot once the header is cached).
    if (prefetch && i + book::BookSet::kHeaderAhead < n) [[likely]] {
      const common::Event& header_next = events[i + book::BookSet::kHeaderAhead];
      const std::uint32_t header_id = header_next.instrument_id < count ? header_next.instrument_id : 0;
      const book::Book& header_book = (*books_)[header_id];
      __builtin_prefetch(&header_book, 1);
      __builtin_prefetch(reinterpret_cast<const char*>(&header_book) + 64, 1);
      const auto* features_next = reinterpret_cast<const char*>(&signals_[header_id]);
      for (std::size_t line = 0; line < sizeof(signal::FeatureState); line += 64) {
        __builtin_prefetch(features_next + line, 1);
      }
      if (header_next.kind == common::EventKind::kTrade || has_position_[header_id] != 0) {
        __builtin_prefetch(&hot_[header_id], 1);  // a trade writes its last price; a position reads its mark
      }
      const common::Event& slot_next = events[i + book::BookSet::kSlotAhead];
      const std::uint32_t slot_id = slot_next.instrument_id < count ? slot_next.instrument_id : 0;
      const book::Book& slot_book = (*books_)[slot_id];
      slot_book.prefetch_for(slot_next);
      // An instrument with a position revalues it (positions, risk) when its mid moves: fetch those too.
      if ((slot_next.flags & common::kFlagLastInMessage) != 0 && has_position_[slot_id] != 0) prefetch_mark(slot_id);
      // The signal update at the message end walks the top levels of both sides.
      if ((slot_next.flags & common::kFlagLastInMessage) != 0) slot_book.prefetch_top();
    }
    const std::uint32_t id = event.instrument_id;
    if (id >= count) [[unlikely]] {
      result.book_error = book::ApplyError::kUnknownBook;
      result.error = EngineError::kUnknownInstrument;
      return result;
    }
    if (!in_message_) {
      in_message_ = true;
      // Sampling: one message in timing_sample is timed; the others cost this decrement only.
      timed_message_ = timing && --sample_countdown_ == 0;
      if (timed_message_) {
        sample_countdown_ = config_.timing_sample;
        message_t0_ = ticks();
      }
    }
    book::Book& book = (*books_)[id];
    signal::FeatureState& features = signals_[id];
    // Inside a message, a level update below the top N of its side changes only the book: the signal's
    // note ignores it (FeatureState::ignores_level) and nothing else reads it before the message ends. Most
    // events of a depth feed are such (BTCUSDT: ~68 events per depth message, nearly all deep), so the book
    // applies a run of them in one pass (Book::apply_levels_while): no per-event note, previous-size lookup
    // or sequence bookkeeping, the same book as one try_apply per event. The run ends before any event the
    // signal must see, and ignores_level changes only through such events, so it holds for the whole run.
    // Not with many books: their loop prefetches per event (below), which the run would skip.
    const bool last = (event.flags & common::kFlagLastInMessage) != 0;
    if (!last && !prefetch && static_cast<unsigned>(event.kind) - 2U < 2U) {  // kSnapshotLevel, kDelta
      const std::size_t run = apply_quiet_levels(book, features, events.subspan(i), id);
      if (run != 0) {
        counters_.events += run;
        result.applied += run;
        i += run - 1;
        continue;
      }
    }
    // The level's size before the event, for the signal's incremental top-N sums, reported by the update
    // (no second lookup; -1 for events that are not level updates).
    std::int64_t old_qty = -1;
    const book::ApplyError error = book.try_apply(event, old_qty);
    if (error != book::ApplyError::kOk) [[unlikely]] {
      result.book_error = error;
      result.error = EngineError::kBadEvent;
      in_message_ = false;
      return result;
    }
    ++counters_.events;
    if (event.kind == common::EventKind::kTrade) {
      InstrumentHot& hot = hot_[id];
      hot.last_trade_px = event.px_ticks;
      hot.has_last_trade = 1;
    }
    if (!last) {
      if (event.kind == common::EventKind::kTrade) {
        features.on_trade(event);
      } else if (static_cast<unsigned>(event.kind) - 1U < 3U) {
        features.note_level(event, old_qty, book);
      }
      ++result.applied;
      continue;
    }
    // Message end: the book is consistent; update the signal, then decide.
    const bool timed = timed_message_;
    in_message_ = false;
    const std::uint64_t t_book = timed ? ticks() : 0;
    if (event.kind == common::EventKind::kTrade) {
      features.on_trade(event);
    } else if (static_cast<unsigned>(event.kind) - 1U < 3U) {
      features.note_level(event, old_qty, book);
      features.on_book_tracked(book, signal::event_time_ns(event));
    }
    const signal::CompositeValue composite = composite_.evaluate(features);
    // A non-zero decision is when a strategy may send an order: start loading the risk state its check
    // reads so those misses overlap the mark refresh and the strategy instead of queueing inside it.
    if (prefetch && composite.decision != 0 && strategy_ != nullptr) prefetch_submit(id);
    // Four counter reads per message (each costs ~25 ns on this class of VM): stage boundaries are shared.
    const std::uint64_t t_signal = timed ? ticks() : 0;
    ++counters_.messages;
    decide(id, event, composite);
    if (timed) {
      const std::uint64_t t_end = ticks();
      record(Stage::kBook, message_t0_, t_book);
      record(Stage::kSignal, t_book, t_signal);
      if (strategy_ != nullptr) record(Stage::kStrategy, t_signal, t_end);
      record(Stage::kTickToDecision, message_t0_, t_end);
    }
    ++result.applied;
  }
  return result;
}

void Engine::mark_and_pnl(std::uint32_t id, std::int64_t mid) noexcept {
  InstrumentHot& hot = hot_[id];
  hot.mark_px = mid;
  (void)positions_.try_set_mark(id, mid);
  (void)risk_.try_set_mark(id, mid);
  refresh_pnl(id);
}

void Engine::refresh_pnl(std::uint32_t id) noexcept {
  const position::Position& p = positions_[id];
  InstrumentHot& hot = hot_[id];
  __int128 tick_lots = p.realized_tl();
  // The engine gives positions_ every mark it gives hot.mark_px (mark_and_pnl, apply_fill), so an open
  // position always has its mark here without reading the position book's own copy.
  if (p.net_lots() != 0) {
    __int128 unrealized = 0;
    if (p.try_unrealized_tl(hot.mark_px, unrealized) == position::PositionError::kOk) tick_lots += unrealized;
  }
  const __int128 fee_units = p.maker_fee_units() + p.taker_fee_units();
  __int128 money = 0;
  __int128 fees = 0;
  constexpr __int128 kInt64Min = std::numeric_limits<std::int64_t>::min();
  constexpr __int128 kInt64Max = std::numeric_limits<std::int64_t>::max();
  if (hot.money_per_tick_lot != 0 && hot.money_per_notional_unit != 0 && tick_lots >= kInt64Min &&
      tick_lots <= kInt64Max && fee_units >= kInt64Min && fee_units <= kInt64Max) [[likely]] {
    // Both products are int64 x int64 (< 2^126 in magnitude): exact without an overflow check, and the
    // same values as the two checked multiplications below (whose intermediates are smaller still).
    money = static_cast<__int128>(static_cast<std::int64_t>(tick_lots)) * hot.money_per_tick_lot;
    fees = static_cast<__int128>(static_cast<std::int64_t>(fee_units)) * hot.money_per_notional_unit;
  } else if (positions_.try_to_notional(id, tick_lots, money) != position::PositionError::kOk ||
             positions_.try_to_book_units(id, money, money) != position::PositionError::kOk ||
             positions_.try_to_book_units(id, fee_units, fees) != position::PositionError::kOk) {
    return;  // beyond 2^127 money units: keep the last value rather than feed a wrapped one
  }
  const __int128 pnl = money - fees;
  const __int128 delta = pnl - hot.pnl;
  if (delta == 0) return;
  hot.pnl = pnl;
  const std::uint32_t venue = hot.venue;
  venue_pnl_[venue] += delta;
  total_pnl_ += delta;
  push_pnl_to_risk(venue);
}

void Engine::push_pnl_to_risk(std::uint32_t venue) noexcept {
  (void)risk_.try_update_pnl(risk::Scope::kVenue, venue, clamp_to_int64(venue_pnl_[venue] - venue_day_start_[venue]),
                             risk_cancels_);
  (void)risk_.try_update_pnl(risk::Scope::kGlobal, 0, clamp_to_int64(total_pnl_ - total_day_start_), risk_cancels_);
  emit_risk_cancels();
}

__int128 Engine::day_pnl(int venue_id) const noexcept {
  if (venue_id < 0) return total_pnl_ - total_day_start_;
  if (static_cast<std::size_t>(venue_id) >= venue_pnl_.size()) return 0;
  return venue_pnl_[static_cast<std::size_t>(venue_id)] - venue_day_start_[static_cast<std::size_t>(venue_id)];
}

void Engine::reset_day() noexcept {
  venue_day_start_ = venue_pnl_;  // same size: no allocation
  total_day_start_ = total_pnl_;
  risk_.reset_day();
}

void Engine::emit_risk_cancels() noexcept {
  for (const std::uint64_t order_id : risk_cancels_) (void)cancel(order_id);
  risk_cancels_.clear();
}

EngineError Engine::try_set_state(risk::Scope scope, std::uint32_t id, risk::TradingState state) noexcept {
  if (scope == risk::Scope::kInstrument && id >= instruments_.size()) return EngineError::kUnknownInstrument;
  // risk_cancels_ has capacity for every working order, so the risk call appends without allocating.
  risk::OrderError error = risk::OrderError::kOk;
  try {
    error = risk_.try_set_state(scope, id, state, risk_cancels_);
  } catch (...) {
    return EngineError::kBadScope;  // unreachable with the reserve above; keeps the noexcept promise
  }
  if (error != risk::OrderError::kOk) return EngineError::kBadScope;
  emit_risk_cancels();
  return EngineError::kOk;
}

std::uint32_t Engine::slot_of(std::uint64_t order_id) const noexcept {
  const auto slot = static_cast<std::uint32_t>(order_id & ((std::uint64_t{1} << slot_bits_) - 1U));
  if (order_id == 0 || slot >= orders_.size() || orders_[slot].order_id != order_id) return risk::RiskEngine::kMaxOrderCapacity;
  return slot;
}

const WorkingOrder* Engine::find_order(std::uint64_t order_id) const noexcept {
  const std::uint32_t slot = slot_of(order_id);
  return slot < orders_.size() ? &orders_[slot] : nullptr;
}

void Engine::free_slot(std::uint32_t slot) noexcept {
  orders_[slot] = WorkingOrder{};
  free_slots_.push_back(slot);  // capacity is order_capacity: never reallocates
}

bool Engine::emit(IntentKind kind, const WorkingOrder& order) noexcept {
  if (intent_count_ == intents_.size()) return false;
  OrderIntent& intent = intents_[intent_count_++];
  intent = OrderIntent{};
  intent.ts_ns = now_ns_;
  intent.px_ticks = order.px_ticks;
  intent.qty_lots = kind == IntentKind::kCancel ? 0 : order.qty_lots;
  intent.order_id = order.order_id;
  intent.trigger_seq = trigger_seq_;
  intent.ts_trigger_local_ns = trigger_local_ns_;
  intent.instrument_id = order.instrument_id;
  intent.kind = kind;
  intent.side = order.side;
  intent.type = order.type;
  intent.tif = order.tif;
  intent.venue_id = hot_[order.instrument_id].venue;
  intent.reduce_only = order.reduce_only ? 1 : 0;
  ++counters_.intents;
  return true;
}

SubmitResult Engine::submit(const OrderSpec& spec) noexcept {
  SubmitResult result;
  if (spec.instrument_id >= instruments_.size()) {
    result.reason = risk::RiskReason::kUnknownInstrument;
    ++counters_.risk_refusals;
    ++counters_.refusals_by_reason[static_cast<std::size_t>(result.reason)];
    return result;
  }
  if (intent_count_ == intents_.size()) {
    result.output_full = true;
    ++counters_.output_full;
    return result;
  }
  if (free_slots_.empty()) {
    result.reason = risk::RiskReason::kOrderTableFull;
    ++counters_.risk_refusals;
    ++counters_.refusals_by_reason[static_cast<std::size_t>(result.reason)];
    return result;
  }
  const std::uint32_t slot = free_slots_.back();
  const std::uint64_t order_id = (next_sequence_ << slot_bits_) | slot;
  const risk::OrderRequest request{now_ns_, spec.px_ticks, spec.qty_lots, spec.instrument_id, spec.side,
                                   spec.reduce_only};
  const risk::MarketView market = market_view(spec.instrument_id);
  const bool timing = config_.timing;
  const std::uint64_t t0 = timing ? ticks() : 0;
  const risk::RiskDecision decision = risk_.try_submit(order_id, request, market);
  if (timing) record(Stage::kRisk, t0, ticks());
  if (!decision.ok()) {
    result.reason = decision.reason;
    ++counters_.risk_refusals;
    ++counters_.refusals_by_reason[static_cast<std::size_t>(decision.reason)];
    return result;
  }
  free_slots_.pop_back();
  ++next_sequence_;
  WorkingOrder& order = orders_[slot];
  order = WorkingOrder{};
  order.order_id = order_id;
  order.px_ticks = spec.px_ticks;
  order.qty_lots = spec.qty_lots;
  order.leaves_lots = spec.qty_lots;
  order.instrument_id = spec.instrument_id;
  order.tag = spec.tag;
  order.side = spec.side;
  order.type = spec.type;
  order.tif = spec.tif;
  order.reduce_only = spec.reduce_only;
  (void)emit(IntentKind::kNew, order);  // room was checked above
  ++counters_.new_orders;
  result.order_id = order_id;
  return result;
}

bool Engine::cancel(std::uint64_t order_id) noexcept {
  const std::uint32_t slot = slot_of(order_id);
  if (slot >= orders_.size()) return false;
  WorkingOrder& order = orders_[slot];
  if (order.cancel_sent) return false;
  if (!emit(IntentKind::kCancel, order)) {
    ++counters_.output_full;
    return false;
  }
  order.cancel_sent = true;
  ++counters_.cancels;
  return true;
}

SubmitResult Engine::replace(std::uint64_t order_id, std::int64_t px_ticks, std::int64_t qty_lots) noexcept {
  SubmitResult result;
  const std::uint32_t slot = slot_of(order_id);
  if (slot >= orders_.size() || orders_[slot].cancel_sent || orders_[slot].replace_sent) {
    result.reason = risk::RiskReason::kDuplicateOrderId;  // not replaceable now: unknown or already changing
    ++counters_.risk_refusals;
    ++counters_.refusals_by_reason[static_cast<std::size_t>(result.reason)];
    return result;
  }
  if (intent_count_ == intents_.size()) {
    result.output_full = true;
    ++counters_.output_full;
    return result;
  }
  WorkingOrder& order = orders_[slot];
  // Risk has no modify: release the old terms, check the new ones under the same id, and put the old
  // terms back (unchecked, as they were already accepted) when the new ones are refused.
  const risk::OrderRequest old_request{now_ns_, order.px_ticks, order.leaves_lots, order.instrument_id, order.side,
                                       order.reduce_only};
  const risk::OrderRequest request{now_ns_, px_ticks, qty_lots, order.instrument_id, order.side, order.reduce_only};
  (void)risk_.on_cancel(order_id);
  const bool timing = config_.timing;
  const std::uint64_t t0 = timing ? ticks() : 0;
  const risk::RiskDecision decision = risk_.try_submit(order_id, request, market_view(order.instrument_id));
  if (timing) record(Stage::kRisk, t0, ticks());
  if (!decision.ok()) {
    (void)risk_.on_order_sent(order_id, old_request);
    if (order.acked) (void)risk_.on_ack(order_id);
    result.reason = decision.reason;
    ++counters_.risk_refusals;
    ++counters_.refusals_by_reason[static_cast<std::size_t>(decision.reason)];
    return result;
  }
  if (order.acked) (void)risk_.on_ack(order_id);
  order.prev_px_ticks = order.px_ticks;
  order.prev_qty_lots = order.leaves_lots;
  order.px_ticks = px_ticks;
  order.qty_lots = qty_lots;
  order.leaves_lots = qty_lots;
  order.replace_sent = true;
  (void)emit(IntentKind::kReplace, order);
  ++counters_.replaces;
  result.order_id = order_id;
  return result;
}

void Engine::prefetch_report(const ExecutionReport& report) const noexcept {
  const std::uint32_t id = report.instrument_id;
  if (id >= hot_.size()) return;
  __builtin_prefetch(&hot_[id], 1);
  const auto slot = static_cast<std::size_t>(report.order_id & ((std::uint64_t{1} << slot_bits_) - 1U));
  if (slot < orders_.size()) __builtin_prefetch(&orders_[slot], 1);
  risk_.prefetch_order(report.order_id);
  risk_.prefetch_instrument(id);
  if (report.kind == ReportKind::kFill) positions_.prefetch_fill(id);
}

void Engine::prefetch_submit(std::uint32_t id) const noexcept {
  __builtin_prefetch(&hot_[id]);  // market_view: last trade, resyncing
  risk_.prefetch_instrument(id);
  // The id submit() would give the next order: its index slot is where the duplicate check probes.
  if (!free_slots_.empty()) risk_.prefetch_order((next_sequence_ << slot_bits_) | free_slots_.back());
}

void Engine::prefetch_mark(std::uint32_t id) const noexcept {
  __builtin_prefetch(&hot_[id], 1);
  positions_.prefetch_position(id);
  risk_.prefetch_mark(id);
}

ApplyResult Engine::try_on_reports(std::span<const ExecutionReport> reports) noexcept {
  ApplyResult result;
  // Each report touches a handful of cold lines (order slot, position, risk state, duplicate check),
  // most of them independent: request the first few reports' lines at once, then stay kReportsAhead
  // ahead, so the misses of a batch overlap instead of queueing one after another.
  // With few instruments (the same threshold as the books') that state stays cached: no prefetch.
  constexpr std::size_t kReportsAhead = 4;
  const std::size_t n = reports.size();
  const bool prefetch = instruments_.size() >= kPrefetchFromInstruments;
  for (std::size_t i = 0; prefetch && i < n && i < kReportsAhead; ++i) prefetch_report(reports[i]);
  for (std::size_t i = 0; i < n; ++i) {
    const ExecutionReport& report = reports[i];
    if (prefetch && i + kReportsAhead < n) prefetch_report(reports[i + kReportsAhead]);
    now_ns_ = config_.wall_clock ? common::wall_clock_ns() : report.ts_local_ns;
    trigger_seq_ = 0;
    trigger_local_ns_ = report.ts_local_ns;
    const EngineError error = apply_report(report);
    if (error != EngineError::kOk) {
      result.error = error;
      return result;
    }
    ++result.applied;
  }
  return result;
}

EngineError Engine::apply_report(const ExecutionReport& report) noexcept {
  const auto kind = static_cast<unsigned>(report.kind);
  if (kind < 1 || kind > 4 || report.instrument_id >= instruments_.size()) return EngineError::kBadReport;
  if (report.kind == ReportKind::kFill &&
      (report.qty_lots <= 0 || report.trade_id == 0 ||
       (report.side != common::Side::kBid && report.side != common::Side::kAsk))) {
    return EngineError::kBadReport;
  }
  const std::uint32_t slot = slot_of(report.order_id);
  if (slot >= orders_.size() || orders_[slot].instrument_id != report.instrument_id) {
    ++counters_.unknown_reports;
    // A fill of an order that finished here (its cancel raced the fill) still happened at the venue.
    if (report.kind == ReportKind::kFill) return apply_fill(report, nullptr);
    return EngineError::kOk;
  }
  WorkingOrder& order = orders_[slot];
  if (report.kind == ReportKind::kFill && report.qty_lots > order.leaves_lots) return EngineError::kBadReport;
  ++counters_.reports;
  bool done = false;
  switch (report.kind) {
    case ReportKind::kAck:
      order.acked = true;
      order.replace_sent = false;
      (void)risk_.on_ack(report.order_id);
      break;
    case ReportKind::kReject:
      if (order.replace_sent) {
        // The replace was refused: the order keeps its old terms at the venue.
        const risk::OrderRequest old_request{now_ns_, order.prev_px_ticks, order.prev_qty_lots, order.instrument_id,
                                             order.side, order.reduce_only};
        (void)risk_.on_cancel(report.order_id);
        (void)risk_.on_order_sent(report.order_id, old_request);
        if (order.acked) (void)risk_.on_ack(report.order_id);
        order.px_ticks = order.prev_px_ticks;
        order.qty_lots = order.prev_qty_lots;
        order.leaves_lots = order.prev_qty_lots;
        order.replace_sent = false;
      } else if (order.cancel_sent && order.acked) {
        // The cancel was refused. kUnknownOrder: the venue no longer has the order (it finished and
        // its last report is on the way or lost): release it; otherwise it still rests.
        order.cancel_sent = false;
        if (report.reason == ReportReason::kUnknownOrder) {
          (void)risk_.on_cancel(report.order_id);
          done = true;
        }
      } else {
        (void)risk_.on_reject(report.order_id);
        done = true;
      }
      break;
    case ReportKind::kFill: {
      const EngineError error = apply_fill(report, &order);
      if (error != EngineError::kOk) return error;
      done = order.leaves_lots == 0;
      break;
    }
    case ReportKind::kCancelled:
      (void)risk_.on_cancel(report.order_id);
      done = true;
      break;
  }
  const WorkingOrder copy = order;
  if (done) free_slot(slot);
  if (strategy_ != nullptr) strategy_->on_report(*this, report, copy, done);
  return EngineError::kOk;
}

EngineError Engine::apply_fill(const ExecutionReport& report, WorkingOrder* order) noexcept {
  const bool timing = config_.timing;
  const std::uint64_t t0 = timing ? ticks() : 0;
  const std::uint32_t id = report.instrument_id;
  position::Fill fill{};
  fill.ts_ns = report.ts_exchange_ns;
  fill.px_ticks = report.px_ticks;
  fill.qty_lots = report.qty_lots;
  fill.fee_units = report.fee_units;
  fill.trade_id = report.trade_id;
  fill.instrument_id = id;
  fill.side = report.side;
  fill.liquidity = report.liquidity == FillLiquidity::kMaker ? position::Liquidity::kMaker : position::Liquidity::kTaker;
  fill.venue_id = hot_[id].venue;
  const position::PositionError error = positions_.try_apply_fill(fill);
  if (error == position::PositionError::kDuplicate) {
    ++counters_.duplicate_fills;
    return EngineError::kOk;
  }
  if (error != position::PositionError::kOk) return EngineError::kBadReport;
  ++counters_.fills;
  has_position_[id] = positions_.net_lots(id) != 0 ? 1 : 0;
  if (order != nullptr) {
    order->leaves_lots -= report.qty_lots;
    (void)risk_.on_fill(report.order_id, report.px_ticks, report.qty_lots);
  } else {
    ++counters_.late_fills;
    (void)risk_.try_set_position(id, positions_.net_lots(id), report.px_ticks);
  }
  // The position changed: P&L moves (realized part now; unrealized at the last mark, or the fill price
  // for a first mark) and may move the loss limits.
  if (hot_[id].mark_px == 0) {
    hot_[id].mark_px = report.px_ticks;
    (void)positions_.try_set_mark(id, report.px_ticks);
    (void)risk_.try_set_mark(id, report.px_ticks);
  }
  refresh_pnl(id);
  if (timing) record(Stage::kPosition, t0, ticks());
  return EngineError::kOk;
}

}  // namespace fastcore::engine
