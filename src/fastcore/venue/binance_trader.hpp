#pragma once
/// Binance USD-M wire-to-order in one call: frame bytes -> BinanceFeed -> Engine -> BinanceOrderEncoder.
///
///   on_frame(bytes) ─> feed.on_frame ─(EventSink)─> engine ─> intents ─> try_encode ─> pending requests
///
/// The trader attaches the engine as the feed's EventSink, so the market data never leaves C++. After
/// each frame (or batch of reports) the engine's intents are encoded into pending request slots that the
/// caller (the Cython listener) hands to the order connection's transport and then clears. Each slot
/// leaves kHeadroom bytes in front of the request, where picows writes the WebSocket frame header
/// in place (WSTransport.send_reuse_external_buffer), so the send copies nothing either.
///
/// An intent that cannot be encoded (or cannot be sent: reject_pending()) is answered to the engine at
/// once with a kReject report (reason kVenueRejected), so the engine never believes an order is working
/// that the venue never saw. The requests are stamped with the frame's ts_local_ns (wall clock, ms).
///
/// Allocation: only when one frame produces more requests than any before (the slot buffer grows);
/// never per frame otherwise. Not thread-safe: one trader per event-loop thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fastcore/common/histogram.hpp"
#include "fastcore/engine/engine.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/venue/binance.hpp"
#include "fastcore/venue/binance_orders.hpp"

namespace fastcore::venue {

/// What a trader has done (monotonic).
struct TraderCounters {
  std::uint64_t frames = 0;           ///< on_frame() calls.
  std::uint64_t requests = 0;         ///< Requests encoded and made pending.
  std::uint64_t sent = 0;             ///< Requests reported sent (mark_sent()).
  std::uint64_t encode_errors = 0;    ///< Intents the encoder refused (each rejected back to the engine).
  std::uint64_t unsent = 0;           ///< Pending requests rejected back because they could not be sent.
  std::uint64_t report_errors = 0;    ///< Report batches the engine refused (malformed reports).
};

class BinanceTrader {
 public:
  /// Bytes reserved in front of each request for the WebSocket frame header picows writes in place
  /// (at most 14: 2 + 8 length + 4 mask); 16 keeps the requests 8-byte aligned.
  static constexpr std::size_t kHeadroom = 16;
  /// Stride of one pending slot.
  static constexpr std::size_t kSlotBytes = kHeadroom + BinanceOrderEncoder::kMaxRequestBytes;
  /// Rounds of "reject what could not be encoded -> the strategy reacts -> encode again" per call;
  /// past it the remaining intents are rejected without another round (a strategy that answers every
  /// reject with a new unencodable order cannot loop forever).
  static constexpr int kMaxRounds = 4;

  /// Wires `feed` -> `engine` (sets the feed's sink) and keeps `encoder`; none is owned, all must
  /// outlive the trader (which detaches the sink when destroyed). The encoder's instrument ids must
  /// be the engine's, and the feed's instrument ids the engine's too (same order).
  BinanceTrader(BinanceFeed& feed, engine::Engine& engine, const BinanceOrderEncoder& encoder);
  ~BinanceTrader();
  BinanceTrader(const BinanceTrader&) = delete;
  BinanceTrader& operator=(const BinanceTrader&) = delete;

  /// Reads one market-data frame received at `ts_local_ns` (wall clock ns): the feed applies it, the
  /// engine decides on its events, and its intents become pending requests. Returns the feed's
  /// FrameStatus as an int (for Cython). `data` is read only during the call.
  int on_frame(const char* data, std::size_t size, std::int64_t ts_local_ns) noexcept;

  /// Applies venue reports (acks, rejects, fills, cancels) to the engine at `ts_local_ns`; the intents
  /// they cause become pending requests. False when the engine refused a malformed report (the
  /// reports before it stay applied; engine().last_apply() is not updated, see the counters).
  [[nodiscard]] bool on_reports(std::span<const engine::ExecutionReport> reports, std::int64_t ts_local_ns) noexcept;

  /// Requests waiting to be sent, in order.
  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }
  /// Start of pending request `i` (i < pending()); kHeadroom writable bytes precede it. Valid until
  /// the next on_frame / on_reports / clear.
  [[nodiscard]] char* request(std::size_t i) noexcept { return slots_.data() + i * kSlotBytes + kHeadroom; }
  /// The engine intent pending request `i` was encoded from (i < pending()).
  [[nodiscard]] const engine::OrderIntent& pending_intent(std::size_t i) const noexcept { return intents_[i]; }
  /// Length of pending request `i`.
  [[nodiscard]] std::size_t request_size(std::size_t i) const noexcept { return sizes_[i]; }
  /// Marks every pending request as sent and clears them.
  void mark_sent() noexcept {
    counters_.sent += pending_;
    pending_ = 0;
  }
  /// Rejects every pending request back to the engine (no order connection): the engine forgets them.
  /// The intents this causes are rejected too (nothing can be sent).
  void reject_pending(std::int64_t ts_local_ns) noexcept { reject_from(0, ts_local_ns); }
  /// Marks pending requests [0, first) sent and rejects the rest back to the engine (a send failed
  /// part-way: what left is not sent twice, what did not leave is not believed working).
  void reject_from(std::size_t first, std::int64_t ts_local_ns) noexcept;

  /// Records one wire-to-order sample: frame arrival to the order frame handed to the socket, ns.
  void record_wire_to_order(std::int64_t ns) noexcept { wire_to_order_.record(ns < 0 ? 0 : static_cast<std::uint64_t>(ns)); }
  [[nodiscard]] const common::Histogram& wire_to_order() const noexcept { return wire_to_order_; }
  /// Records one frame-to-request sample: frame arrival to its requests encoded, just before the first
  /// send (wire_to_order() minus the send system call), ns.
  void record_frame_to_request(std::int64_t ns) noexcept {
    frame_to_request_.record(ns < 0 ? 0 : static_cast<std::uint64_t>(ns));
  }
  [[nodiscard]] const common::Histogram& frame_to_request() const noexcept { return frame_to_request_; }
  /// Clears both latency histograms.
  void reset_histograms() noexcept {
    wire_to_order_.reset();
    frame_to_request_.reset();
  }

  [[nodiscard]] const TraderCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] BinanceFeed& feed() noexcept { return feed_; }
  [[nodiscard]] engine::Engine& engine() noexcept { return engine_; }

 private:
  void drain_intents(std::int64_t ts_local_ns) noexcept;
  void reject(const engine::OrderIntent& intent, std::int64_t ts_local_ns) noexcept;

  BinanceFeed& feed_;
  engine::Engine& engine_;
  const BinanceOrderEncoder& encoder_;
  std::vector<char> slots_;
  std::vector<std::size_t> sizes_;
  std::vector<engine::OrderIntent> intents_;  ///< The intent of each pending request (for reject_pending).
  std::size_t pending_ = 0;
  std::vector<engine::ExecutionReport> rejects_;  ///< Reports of intents that could not be encoded.
  common::Histogram wire_to_order_;
  common::Histogram frame_to_request_;
  TraderCounters counters_;
};

/// BinanceTrader::on_frame for callers that cannot name C++ members (the Cython listener).
inline int binance_trader_on_frame(BinanceTrader& trader, const char* data, std::size_t size,
                                   std::int64_t ts_local_ns) noexcept {
  return trader.on_frame(data, size, ts_local_ns);
}

}  // namespace fastcore::venue
