// The Binance USD-M order encoder: a pinned signed request, the unsigned (session.logon) form, refusals,
// and every too-small buffer refused without writing past it (ASan watches the last case).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/venue/binance_orders.hpp"

using fastcore::engine::IntentKind;
using fastcore::engine::OrderIntent;
using fastcore::engine::OrderType;
using fastcore::venue::BinanceOrderEncoder;
using fastcore::venue::EncodeError;

namespace {

fastcore::common::Instrument btcusdt() {
  fastcore::common::Instrument instrument;
  fastcore::common::InstrumentField failed{};
  CHECK(fastcore::common::try_make_instrument("BTCUSDT", "binance_usdm", "0.1", "0.001", "0", "0", "1", false,
                                              instrument, failed) == fastcore::common::DecimalError::kOk);
  return instrument;
}

OrderIntent limit_buy() {
  OrderIntent intent{};
  intent.kind = IntentKind::kNew;
  intent.order_id = 42;
  intent.instrument_id = 0;
  intent.side = fastcore::common::Side::kBid;
  intent.px_ticks = 650001;
  intent.qty_lots = 10;
  return intent;
}

std::string encode(const BinanceOrderEncoder& encoder, const OrderIntent& intent, EncodeError& error) {
  std::vector<char> out(BinanceOrderEncoder::kMaxRequestBytes);
  std::size_t length = 0;
  error = encoder.try_encode(intent, 1700000000123, out, length);
  return {out.data(), length};
}

}  // namespace

int main() {
  const std::vector<fastcore::common::Instrument> instruments{btcusdt()};
  const std::string_view secret = "sec";
  const fastcore::common::HmacSha256 mac({reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()});
  BinanceOrderEncoder signed_encoder;
  CHECK(signed_encoder.try_init(instruments, "key123", &mac) == EncodeError::kOk);
  EncodeError error{};
  // Pinned against rentrade.venues.binance_usdm.signing.ws_request with the same parameters.
  CHECK_EQ(encode(signed_encoder, limit_buy(), error),
           R"({"id":"place-42","method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT",)"
           R"("timeInForce":"GTC","quantity":"0.010","price":"65000.1","newClientOrderId":"rt-42","apiKey":"key123",)"
           R"("timestamp":1700000000123,"signature":"28d72c0799c530ec0284f208845837b233c0942cc731c29c9785b1b2f8c7c74a"}})");
  CHECK(error == EncodeError::kOk);

  BinanceOrderEncoder logged_on;
  CHECK(logged_on.try_init(instruments, "", nullptr) == EncodeError::kOk);
  OrderIntent cancel = limit_buy();
  cancel.kind = IntentKind::kCancel;
  CHECK_EQ(encode(logged_on, cancel, error),
           R"({"id":"cancel-42","method":"order.cancel","params":{"symbol":"BTCUSDT","origClientOrderId":"rt-42",)"
           R"("timestamp":1700000000123}})");

  OrderIntent bad = limit_buy();
  bad.instrument_id = 1;
  (void)encode(logged_on, bad, error);
  CHECK(error == EncodeError::kUnknownInstrument);
  bad = limit_buy();
  bad.qty_lots = 0;
  (void)encode(logged_on, bad, error);
  CHECK(error == EncodeError::kBadQty);
  bad = limit_buy();
  bad.px_ticks = 0;
  (void)encode(logged_on, bad, error);
  CHECK(error == EncodeError::kBadPrice);
  bad = limit_buy();
  bad.type = OrderType::kMarket;
  bad.px_ticks = 0;  // a market order carries no price
  (void)encode(logged_on, bad, error);
  CHECK(error == EncodeError::kOk);
  bad.kind = static_cast<IntentKind>(9);
  (void)encode(logged_on, bad, error);
  CHECK(error == EncodeError::kBadKind);

  // Every buffer shorter than the request is refused; each is its own heap block so ASan sees overruns.
  const std::string full = encode(signed_encoder, limit_buy(), error);
  for (std::size_t size = 0; size < full.size(); ++size) {
    auto buffer = std::make_unique<char[]>(size + 1);
    std::size_t length = 99;
    CHECK(signed_encoder.try_encode(limit_buy(), 1700000000123, {buffer.get(), size}, length) ==
          EncodeError::kBufferTooSmall);
    CHECK(length == 0);
  }

  BinanceOrderEncoder refused;
  CHECK(refused.try_init(instruments, "bad\"key", &mac) == EncodeError::kBadText);
  return report("test_binance_orders");
}
