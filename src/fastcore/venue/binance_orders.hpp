#pragma once
/// Binance USD-M order encoder: an engine OrderIntent becomes the exact text of a WebSocket API request
/// (order.place, order.cancel, order.modify), signed with HMAC-SHA256 in place or, on a connection
/// already authenticated with session.logon, unsigned. No allocation per order: the request is written
/// into the caller's buffer and the signature payload into a stack buffer.
///
/// Byte for byte the same as rentrade.venues.binance_usdm.signing.ws_request() with the parameters in
/// the order documented at try_encode() (tests/test_binance_orders.py checks it).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fastcore/common/instrument.hpp"
#include "fastcore/common/sha256.hpp"
#include "fastcore/engine/order.hpp"

namespace fastcore::venue {

/// Why an intent could not be encoded (nothing is written that should be sent).
enum class EncodeError : std::uint8_t {
  kOk = 0,
  kUnknownInstrument,  ///< instrument_id outside the encoder's instruments.
  kBadQty,             ///< Quantity <= 0 on a new or replace.
  kBadPrice,           ///< Price <= 0 on a limit order or a replace.
  kBadKind,            ///< Unknown intent kind, order type or time in force.
  kBufferTooSmall,     ///< The request does not fit the output buffer (kMaxRequestBytes always fits).
  kBadText,            ///< try_init: a symbol or the API key holds characters JSON would need to escape.
};

/// Readable text for an EncodeError (static storage, never null).
const char* describe(EncodeError error) noexcept;

class BinanceOrderEncoder {
 public:
  /// Upper bound of one request's length: a buffer of this size never gets kBufferTooSmall.
  static constexpr std::size_t kMaxRequestBytes = 1024;

  /// Instruments by id (the engine's ids). `mac` signs each request with `api_key` (HMAC keys); null
  /// means the connection is logged on (session.logon, Ed25519) and requests carry neither apiKey nor
  /// signature. The encoder keeps a pointer to `mac`: it must outlive the encoder. Allocates here only.
  [[nodiscard]] EncodeError try_init(std::span<const common::Instrument> instruments, std::string api_key,
                                     const common::HmacSha256* mac);

  /// Writes the request for `intent` into `out` and its length into `length`. Parameters, in order:
  /// order.place: symbol, side, type, timeInForce (limit), quantity, price (limit), reduceOnly (when
  /// set), newClientOrderId; order.cancel: symbol, origClientOrderId; order.modify: symbol, side,
  /// quantity, price, origClientOrderId; then apiKey, timestamp, signature (signed) or timestamp alone.
  /// Client order ids are "rt-<order_id>"; the request id is "<place|cancel|modify>-<order_id>".
  /// Cost: a few hundred ns signed (SHA-256 of ~200 bytes), well under that unsigned.
  [[nodiscard]] EncodeError try_encode(const engine::OrderIntent& intent, std::int64_t timestamp_ms,
                                       std::span<char> out, std::size_t& length) const noexcept;

 private:
  std::vector<common::Instrument> instruments_;
  std::string api_key_;
  const common::HmacSha256* mac_ = nullptr;
};

}  // namespace fastcore::venue
