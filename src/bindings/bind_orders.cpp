// rentrade._fastcore.BinanceOrderEncoder: the core's Binance USD-M WebSocket API order encoder, exposed
// for tests, tools and the benchmark (the hot path calls it from C++ directly).
#include <array>
#include <memory>
#include <string>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/venue/binance_orders.hpp"

namespace rentrade_bindings {
namespace {

using fastcore::engine::IntentKind;
using fastcore::engine::OrderIntent;
using fastcore::engine::OrderType;
using fastcore::engine::TimeInForce;
using fastcore::venue::BinanceOrderEncoder;
using fastcore::venue::EncodeError;

void raise_on(EncodeError error, const char* what) {
  if (error != EncodeError::kOk) throw py::value_error(std::string(what) + ": " + fastcore::venue::describe(error));
}

IntentKind parse_kind(const std::string& kind) {
  if (kind == "new") return IntentKind::kNew;
  if (kind == "cancel") return IntentKind::kCancel;
  if (kind == "replace") return IntentKind::kReplace;
  throw py::value_error("kind must be 'new', 'cancel' or 'replace', got '" + kind + "'");
}

OrderType parse_type(const std::string& type) {
  if (type == "limit") return OrderType::kLimit;
  if (type == "market") return OrderType::kMarket;
  throw py::value_error("order_type must be 'limit' or 'market', got '" + type + "'");
}

TimeInForce parse_tif(const std::string& tif) {
  if (tif == "gtc") return TimeInForce::kGtc;
  if (tif == "ioc") return TimeInForce::kIoc;
  if (tif == "post_only") return TimeInForce::kPostOnly;
  throw py::value_error("time_in_force must be 'gtc', 'ioc' or 'post_only', got '" + tif + "'");
}

}  // namespace

void bind_orders(py::module_& m) {
  py::class_<BinanceOrderEncoder>(m, "BinanceOrderEncoder",
                                  "Engine intents as Binance USD-M WebSocket API requests (order.place/cancel/modify),\n"
                                  "signed with `mac` and `api_key`, or unsigned (mac=None) for a session.logon connection.")
      .def(py::init([](const std::vector<fastcore::common::Instrument>& instruments, const std::string& api_key,
                       const fastcore::common::HmacSha256* mac) {
             auto encoder = std::make_unique<BinanceOrderEncoder>();
             raise_on(encoder->try_init(instruments, api_key, mac), "BinanceOrderEncoder");
             return encoder;
           }),
           py::arg("instruments"), py::arg("api_key"), py::arg("mac"),
           py::keep_alive<1, 4>())  // the encoder signs with `mac` for as long as it lives
      .def(
          "encode",
          [](const BinanceOrderEncoder& encoder, const std::string& kind, std::uint64_t order_id,
             std::uint32_t instrument_id, py::handle side, std::int64_t px_ticks, std::int64_t qty_lots,
             std::int64_t timestamp_ms, const std::string& order_type, const std::string& time_in_force,
             bool reduce_only) {
            OrderIntent intent{};
            intent.kind = parse_kind(kind);
            intent.order_id = order_id;
            intent.instrument_id = instrument_id;
            intent.side = parse_side(side);
            intent.px_ticks = px_ticks;
            intent.qty_lots = qty_lots;
            intent.type = parse_type(order_type);
            intent.tif = parse_tif(time_in_force);
            intent.reduce_only = reduce_only ? 1 : 0;
            std::array<char, BinanceOrderEncoder::kMaxRequestBytes> out{};
            std::size_t length = 0;
            raise_on(encoder.try_encode(intent, timestamp_ms, out, length), "cannot encode the order");
            return py::bytes(out.data(), length);
          },
          py::arg("kind"), py::arg("order_id"), py::arg("instrument_id"), py::arg("side"), py::arg("px_ticks"),
          py::arg("qty_lots"), py::arg("timestamp_ms"), py::arg("order_type") = "limit",
          py::arg("time_in_force") = "gtc", py::arg("reduce_only") = false,
          "The request text (UTF-8 JSON bytes) for one intent; ValueError says why one cannot be encoded.")
      .def("__repr__", [](const BinanceOrderEncoder&) { return std::string("<BinanceOrderEncoder>"); });
}

}  // namespace rentrade_bindings
