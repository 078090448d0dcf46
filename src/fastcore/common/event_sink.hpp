#pragma once
/// Where a producer of market events (a venue parser, a replay, the synthetic market) hands them on.
/// The engine implements it; so can a recorder or a test. One virtual call per batch, not per event.
#include <span>

#include "fastcore/common/event.hpp"

namespace fastcore::common {

/// Receives batches of events in order. The span is valid only during the call (the producer reuses it).
class EventSink {
 public:
  virtual ~EventSink() = default;
  /// Consumes one batch; each message's last event carries kFlagLastInMessage.
  virtual void on_events(std::span<const Event> events) noexcept = 0;
};

}  // namespace fastcore::common
