#pragma once
/// The engine (fastcore::engine::Engine, with whatever strategy it runs) as the backtest's Strategy: events
/// and reports go to the engine, the intents it buffered come back. No allocation per call (the engine's
/// intent buffer is fixed; the backtest's vector keeps its capacity).
#include "fastcore/engine/engine.hpp"
#include "fastcore/sim/backtest.hpp"

namespace fastcore::sim {

class EngineStrategy final : public Strategy {
 public:
  /// Drives `engine` (not owned; outlives this).
  explicit EngineStrategy(engine::Engine& engine) noexcept
      : engine_(engine), engine_events_(engine.counters().events), fresh_(engine.counters().events == 0) {}

  void on_events(std::span<const common::Event> events, std::vector<OrderIntent>& out) override {
    // Events the engine took from elsewhere since the last call (or a re-init) put its books off ours.
    if (engine_.counters().events != engine_events_) fresh_ = false;
    const engine::ApplyResult result = engine_.try_on_events(events);
    if (result.error != engine::EngineError::kOk && error_.error == engine::EngineError::kOk) error_ = result;
    mirror_events_ += result.applied;
    engine_events_ = engine_.counters().events;
    take(out);
  }
  /// The engine's books: each has applied every event given to on_events() that it did not refuse, from
  /// empty (the engine had applied no event when this adapter was made). nullptr when the engine shares
  /// its books with a caller, or applied events that did not come through here.
  [[nodiscard]] const book::BookSet* mirror_books() const noexcept override {
    const bool ours = fresh_ && engine_.owns_books() && engine_.counters().events == engine_events_;
    return ours ? &engine_.books() : nullptr;
  }
  [[nodiscard]] std::uint64_t mirror_events() const noexcept override { return mirror_events_; }
  void on_reports(std::span<const ExecutionReport> reports, std::vector<OrderIntent>& out) override {
    const engine::ApplyResult result = engine_.try_on_reports(reports);
    if (result.error != engine::EngineError::kOk && error_.error == engine::EngineError::kOk) error_ = result;
    take(out);
  }
  /// The first refusal the engine reported (kOk when none): events or reports after it in the same call
  /// were not applied by the engine.
  [[nodiscard]] const engine::ApplyResult& first_error() const noexcept { return error_; }

 private:
  void take(std::vector<OrderIntent>& out) {
    const auto intents = engine_.intents();
    out.insert(out.end(), intents.begin(), intents.end());
    engine_.clear_intents();
  }

  engine::Engine& engine_;
  engine::ApplyResult error_;
  std::uint64_t engine_events_;    // the engine's event counter after our last call
  std::uint64_t mirror_events_ = 0;  // events the engine applied through on_events()
  bool fresh_;                     // the engine's books hold only events given through here
};

}  // namespace fastcore::sim
