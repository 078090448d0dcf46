#pragma once
/// What the Binance feed tests share: a USD-M instrument from decimal strings, and a sink that keeps
/// every event the feed emits with the size of each batch.
#include <cstddef>
#include <span>
#include <vector>

#include "check.hpp"
#include "fastcore/common/event.hpp"
#include "fastcore/common/event_sink.hpp"
#include "fastcore/common/instrument.hpp"

namespace binance_support {

/// A binance_usdm instrument with these increments (no minimums, contract size 1).
inline fastcore::common::Instrument make(const char* symbol, const char* tick, const char* lot) {
  fastcore::common::Instrument instrument;
  fastcore::common::InstrumentField failed{};
  const auto error = fastcore::common::try_make_instrument(symbol, "binance_usdm", tick, lot, "0", "0", "1", false,
                                                           instrument, failed);
  CHECK(error == fastcore::common::DecimalError::kOk);
  return instrument;
}

/// Keeps every emitted event in order, and the size of each batch.
struct Recorder final : fastcore::common::EventSink {
  void on_events(std::span<const fastcore::common::Event> events) noexcept override {
    batches.push_back(events.size());
    all.insert(all.end(), events.begin(), events.end());
  }
  std::vector<std::size_t> batches;
  std::vector<fastcore::common::Event> all;
};

}  // namespace binance_support
