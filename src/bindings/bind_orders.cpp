// rentrade._fastcore.BinanceOrderEncoder: the core's Binance USD-M WebSocket API order encoder, exposed
// for tests, tools and the benchmark (the hot path calls it from C++ directly).
#include <array>
#include <memory>
#include <string>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "fastcore/engine/order.hpp"
#include "fastcore/perf/order_latency.hpp"
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

  m.def(
      "measure_order_encode",
      [](const BinanceOrderEncoder& encoder, std::uint32_t instruments, std::int64_t orders, std::uint64_t seed,
         int passes, std::int64_t mid_px_ticks) {
        if (instruments < 1 || orders < 1 || passes < 0 || mid_px_ticks < 100) {
          throw py::value_error("need instruments >= 1, orders >= 1, passes >= 0, mid_px_ticks >= 100");
        }
        SeededRandom random(seed);
        const auto next = [&random] { return random.next(); };
        std::vector<OrderIntent> intents(static_cast<std::size_t>(orders));
        for (std::size_t i = 0; i < intents.size(); ++i) {
          OrderIntent& intent = intents[i];
          intent.kind = IntentKind::kNew;
          intent.order_id = i + 1;
          intent.instrument_id = static_cast<std::uint32_t>(next() % instruments);
          intent.side = (next() & 1) != 0 ? fastcore::common::Side::kAsk : fastcore::common::Side::kBid;
          intent.px_ticks = mid_px_ticks - 50 + static_cast<std::int64_t>(next() % 101);
          intent.qty_lots = 1 + static_cast<std::int64_t>(next() % 1000);
        }
        const fastcore::common::CycleClock clock;
        EncodeError error{};
        std::uint64_t bytes = 0;
        fastcore::perf::LatencyRun run = fastcore::perf::measure_order_encode(
            encoder, intents, 1'700'000'000'000, passes, clock, error, bytes);
        raise_on(error, "measure_order_encode");
        return py::make_tuple(run, bytes);
      },
      py::arg("encoder"), py::arg("instruments"), py::kw_only(), py::arg("orders") = 100'000, py::arg("seed") = 1,
      py::arg("passes") = 3, py::arg("mid_px_ticks") = 600'000,
      "Times `orders` seeded random limit orders (instrument ids below `instruments`, price within +-50 ticks\n"
      "of mid) through the encoder one at a time in the core (cycle counter, timer overhead subtracted), then\n"
      "`passes` times untimed for throughput. Returns (LatencyRun, total request bytes of the timed pass).");
}

}  // namespace rentrade_bindings
