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
  explicit EngineStrategy(engine::Engine& engine) noexcept : engine_(engine) {}

  void on_events(std::span<const common::Event> events, std::vector<OrderIntent>& out) override {
    const engine::ApplyResult result = engine_.try_on_events(events);
    if (result.error != engine::EngineError::kOk && error_.error == engine::EngineError::kOk) error_ = result;
    take(out);
  }
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
};

}  // namespace fastcore::sim
