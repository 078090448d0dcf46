#include "fastcore/venue/binance_trader.hpp"

#include <string_view>

namespace fastcore::venue {

BinanceTrader::BinanceTrader(BinanceFeed& feed, engine::Engine& engine, const BinanceOrderEncoder& encoder)
    : feed_(feed), engine_(engine), encoder_(encoder) {
  // A bracket decision emits at most a few intents per message; 8 slots cover it without growing.
  slots_.resize(8 * kSlotBytes);
  sizes_.resize(8);
  intents_.resize(8);
  rejects_.reserve(8);
  feed_.set_sink(&engine_);
}

BinanceTrader::~BinanceTrader() {
  if (feed_.sink() == &engine_) feed_.set_sink(nullptr);
}

int BinanceTrader::on_frame(const char* data, std::size_t size, std::int64_t ts_local_ns) noexcept {
  ++counters_.frames;
  const FrameStatus status = feed_.on_frame(std::string_view(data, size), ts_local_ns);
  if (!engine_.intents().empty()) drain_intents(ts_local_ns);
  return static_cast<int>(status);
}

bool BinanceTrader::on_reports(std::span<const engine::ExecutionReport> reports, std::int64_t ts_local_ns) noexcept {
  const engine::ApplyResult result = engine_.try_on_reports(reports);
  if (result.error != engine::EngineError::kOk) ++counters_.report_errors;
  if (!engine_.intents().empty()) drain_intents(ts_local_ns);
  return result.error == engine::EngineError::kOk;
}

void BinanceTrader::reject(const engine::OrderIntent& intent, std::int64_t ts_local_ns) noexcept {
  // capacity grows only past the largest batch of rejects so far
  rejects_.push_back(engine::report_without_fill(intent, engine::ReportKind::kReject,
                                                 engine::ReportReason::kVenueRejected, ts_local_ns));
}

void BinanceTrader::drain_intents(std::int64_t ts_local_ns) noexcept {
  const std::int64_t timestamp_ms = ts_local_ns / 1'000'000;
  for (int round = 0; round < kMaxRounds && !engine_.intents().empty(); ++round) {
    const std::span<const engine::OrderIntent> intents = engine_.intents();
    if (pending_ + intents.size() > sizes_.size()) {
      sizes_.resize(pending_ + intents.size());
      intents_.resize(sizes_.size());
      slots_.resize(sizes_.size() * kSlotBytes);
    }
    rejects_.clear();
    for (const engine::OrderIntent& intent : intents) {
      std::size_t length = 0;
      char* out = slots_.data() + pending_ * kSlotBytes + kHeadroom;
      const EncodeError error =
          encoder_.try_encode(intent, timestamp_ms, std::span<char>(out, BinanceOrderEncoder::kMaxRequestBytes), length);
      if (error != EncodeError::kOk) {
        ++counters_.encode_errors;
        reject(intent, ts_local_ns);
        continue;
      }
      intents_[pending_] = intent;
      sizes_[pending_++] = length;
      ++counters_.requests;
    }
    engine_.clear_intents();
    if (rejects_.empty()) return;
    // Rejected at once so the engine and risk release what they reserved for these orders.
    (void)engine_.try_on_reports(rejects_);
  }
  // Still intents after kMaxRounds: refuse them without encoding (see kMaxRounds).
  if (!engine_.intents().empty()) {
    rejects_.clear();
    for (const engine::OrderIntent& intent : engine_.intents()) {
      ++counters_.encode_errors;
      reject(intent, ts_local_ns);
    }
    engine_.clear_intents();
    (void)engine_.try_on_reports(rejects_);
    engine_.clear_intents();  // what the rejects caused is not sent either
  }
}

void BinanceTrader::reject_from(std::size_t first, std::int64_t ts_local_ns) noexcept {
  if (first > pending_) first = pending_;
  counters_.sent += first;
  if (first == pending_) {
    pending_ = 0;
    return;
  }
  rejects_.clear();
  for (std::size_t i = first; i < pending_; ++i) reject(intents_[i], ts_local_ns);
  counters_.unsent += pending_ - first;
  pending_ = 0;
  (void)engine_.try_on_reports(rejects_);
  engine_.clear_intents();  // nothing can be sent now
}

}  // namespace fastcore::venue
