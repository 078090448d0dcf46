#include "fastcore/venue/binance_orders.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "fastcore/common/decimal.hpp"

namespace fastcore::venue {
namespace {

using engine::IntentKind;
using engine::OrderIntent;
using engine::OrderType;
using engine::TimeInForce;

// Appends to a fixed buffer; remembers overflow instead of checking at every call site.
class Writer {
 public:
  Writer(char* begin, std::size_t capacity) noexcept : begin_(begin), at_(begin), end_(begin + capacity) {}
  void put(std::string_view text) noexcept {
    if (static_cast<std::size_t>(end_ - at_) < text.size()) {
      overflow_ = true;
      return;
    }
    at_ = std::copy(text.begin(), text.end(), at_);
  }
  void put(char c) noexcept { put(std::string_view(&c, 1)); }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(at_ - begin_); }

 private:
  char* begin_;
  char* at_;
  char* end_;
  bool overflow_ = false;
};

struct Param {
  std::string_view key;
  std::string_view value;
  bool number = false;  ///< Written unquoted in JSON (the timestamp, as ws_request's json.dumps does).
};

bool json_safe(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
}

std::string_view to_text(std::uint64_t value, char* buffer, std::size_t capacity) noexcept {
  const auto result = std::to_chars(buffer, buffer + capacity, value);
  return {buffer, static_cast<std::size_t>(result.ptr - buffer)};
}

std::string_view to_text(std::int64_t value, char* buffer, std::size_t capacity) noexcept {
  const auto result = std::to_chars(buffer, buffer + capacity, value);
  return {buffer, static_cast<std::size_t>(result.ptr - buffer)};
}

std::string_view time_in_force(TimeInForce tif) noexcept {
  switch (tif) {
    case TimeInForce::kGtc: return "GTC";
    case TimeInForce::kIoc: return "IOC";
    case TimeInForce::kPostOnly: return "GTX";  // Binance futures' post-only: "Good Till Crossing"
  }
  return {};
}

}  // namespace

const char* describe(EncodeError error) noexcept {
  switch (error) {
    case EncodeError::kOk: return "ok";
    case EncodeError::kUnknownInstrument: return "unknown instrument id";
    case EncodeError::kBadQty: return "quantity must be > 0 lots";
    case EncodeError::kBadPrice: return "price must be > 0 ticks";
    case EncodeError::kBadKind: return "unknown intent kind, order type or time in force";
    case EncodeError::kBufferTooSmall: return "request does not fit the output buffer";
    case EncodeError::kBadText: return "symbol or API key holds characters that need JSON escaping";
  }
  return "unknown encode error";
}

EncodeError BinanceOrderEncoder::try_init(std::span<const common::Instrument> instruments, std::string api_key,
                                          const common::HmacSha256* mac) {
  // Symbols and keys go into JSON unescaped; Binance's are plain ASCII, anything else is refused here.
  if (mac != nullptr && (api_key.empty() || !json_safe(api_key))) return EncodeError::kBadText;
  for (const common::Instrument& instrument : instruments) {
    if (instrument.symbol.empty() || instrument.symbol.size() > 32 || !json_safe(instrument.symbol)) {
      return EncodeError::kBadText;
    }
  }
  instruments_.assign(instruments.begin(), instruments.end());
  api_key_ = std::move(api_key);
  mac_ = mac;
  return EncodeError::kOk;
}

EncodeError BinanceOrderEncoder::try_encode(const OrderIntent& intent, std::int64_t timestamp_ms, std::span<char> out,
                                            std::size_t& length) const noexcept {
  length = 0;
  if (intent.instrument_id >= instruments_.size()) return EncodeError::kUnknownInstrument;
  const common::Instrument& instrument = instruments_[intent.instrument_id];
  const bool buy = intent.side == common::Side::kBid;
  const bool is_market = intent.type == OrderType::kMarket;
  if (intent.type != OrderType::kLimit && !is_market) return EncodeError::kBadKind;

  std::string_view method;
  std::string_view request_prefix;
  switch (intent.kind) {
    case IntentKind::kNew: method = "order.place"; request_prefix = "place-"; break;
    case IntentKind::kCancel: method = "order.cancel"; request_prefix = "cancel-"; break;
    case IntentKind::kReplace: method = "order.modify"; request_prefix = "modify-"; break;
    default: return EncodeError::kBadKind;
  }
  const bool needs_qty = intent.kind != IntentKind::kCancel;
  const bool needs_price = intent.kind == IntentKind::kReplace || (intent.kind == IntentKind::kNew && !is_market);
  if (needs_qty && intent.qty_lots <= 0) return EncodeError::kBadQty;
  if (needs_price && intent.px_ticks <= 0 && !instrument.allow_negative_price) return EncodeError::kBadPrice;

  char qty_text[common::kMaxScaledChars];
  char price_text[common::kMaxScaledChars];
  char id_digits[24];
  char client_id[32] = {'r', 't', '-'};
  char ts_text[24];
  const std::string_view order_digits = to_text(intent.order_id, id_digits, sizeof id_digits);
  std::copy(order_digits.begin(), order_digits.end(), client_id + 3);
  const std::string_view client_order_id(client_id, 3 + order_digits.size());
  const std::string_view quantity(
      qty_text, common::format_scaled_to(qty_text, static_cast<__int128>(intent.qty_lots) * instrument.lot.units,
                                         instrument.lot.decimals));
  const std::string_view price(
      price_text, common::format_scaled_to(price_text, static_cast<__int128>(intent.px_ticks) * instrument.tick.units,
                                           instrument.tick.decimals));
  const std::string_view side = buy ? "BUY" : "SELL";

  std::array<Param, 12> params{};
  std::size_t count = 0;
  auto add = [&](std::string_view key, std::string_view value, bool number = false) {
    params[count++] = Param{key, value, number};
  };
  add("symbol", instrument.symbol);
  if (intent.kind == IntentKind::kNew) {
    add("side", side);
    add("type", is_market ? "MARKET" : "LIMIT");
    if (!is_market) {
      const std::string_view tif = time_in_force(intent.tif);
      if (tif.empty()) return EncodeError::kBadKind;
      add("timeInForce", tif);
    }
    add("quantity", quantity);
    if (!is_market) add("price", price);
    if (intent.reduce_only != 0) add("reduceOnly", "true");
    add("newClientOrderId", client_order_id);
  } else if (intent.kind == IntentKind::kCancel) {
    add("origClientOrderId", client_order_id);
  } else {
    add("side", side);
    add("quantity", quantity);
    add("price", price);
    add("origClientOrderId", client_order_id);
  }
  if (mac_ != nullptr) add("apiKey", api_key_);
  add("timestamp", to_text(timestamp_ms, ts_text, sizeof ts_text), true);

  char signature[64];
  if (mac_ != nullptr) {
    // The WebSocket API signs every parameter but the signature, sorted by name, as k=v joined by '&'.
    std::array<const Param*, 12> sorted{};
    for (std::size_t i = 0; i < count; ++i) sorted[i] = &params[i];
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(count),
              [](const Param* a, const Param* b) { return a->key < b->key; });
    char payload_buffer[kMaxRequestBytes];
    Writer payload(payload_buffer, sizeof payload_buffer);
    for (std::size_t i = 0; i < count; ++i) {
      if (i > 0) payload.put('&');
      payload.put(sorted[i]->key);
      payload.put('=');
      payload.put(sorted[i]->value);
    }
    if (payload.overflow()) return EncodeError::kBufferTooSmall;
    mac_->mac_hex({reinterpret_cast<const std::uint8_t*>(payload_buffer), payload.size()}, signature);
  }

  Writer json(out.data(), out.size());
  json.put(R"({"id":")");
  json.put(request_prefix);
  json.put(order_digits);
  json.put(R"(","method":")");
  json.put(method);
  json.put(R"(","params":{)");
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) json.put(',');
    json.put('"');
    json.put(params[i].key);
    json.put(params[i].number ? "\":" : "\":\"");
    json.put(params[i].value);
    if (!params[i].number) json.put('"');
  }
  if (mac_ != nullptr) {
    json.put(R"(,"signature":")");
    json.put(std::string_view(signature, sizeof signature));
    json.put('"');
  }
  json.put("}}");
  if (json.overflow()) return EncodeError::kBufferTooSmall;
  length = json.size();
  return EncodeError::kOk;
}

}  // namespace fastcore::venue
