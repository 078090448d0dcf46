// BinanceTrader: frame bytes through feed, engine and encoder to signed order requests.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "fastcore/common/decimal.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/common/sha256.hpp"
#include "fastcore/engine/bracket_strategy.hpp"
#include "fastcore/engine/engine.hpp"
#include "fastcore/venue/binance.hpp"
#include "fastcore/venue/binance_orders.hpp"
#include "fastcore/venue/binance_trader.hpp"

using namespace fastcore;

namespace {

common::Instrument make(const char* symbol) {
  common::Instrument instrument;
  common::InstrumentField failed{};
  const auto error = common::try_make_instrument(symbol, "binance_usdm", "0.10", "0.001", "0", "0", "1", false,
                                                 instrument, failed);
  CHECK(error == common::DecimalError::kOk);
  return instrument;
}

std::string depth(std::uint64_t first, std::uint64_t last, std::uint64_t prev, const char* bid_qty,
                  const char* ask_qty) {
  return std::string(R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":)") + std::to_string(first) +
         R"(,"u":)" + std::to_string(last) + R"(,"pu":)" + std::to_string(prev) + R"(,"b":[["100.0",")" + bid_qty +
         R"("]],"a":[["100.1",")" + ask_qty + R"("]]})";
}

constexpr const char* kSnapshot =
    R"({"lastUpdateId":1000,"E":1,"T":1,"bids":[["100.0","1.000"],["99.9","1.000"]],"asks":[["100.1","1.000"],["100.2","1.000"]]})";

struct Rig {
  std::vector<common::Instrument> instruments{make("BTCUSDT")};
  book::BookSet books{1};
  std::unique_ptr<venue::BinanceFeed> feed;
  engine::BracketStrategy strategy;
  std::unique_ptr<engine::Engine> engine = std::make_unique<engine::Engine>();
  std::string key = "0123456789abcdef";
  common::HmacSha256 mac{{reinterpret_cast<const std::uint8_t*>(key.data()), key.size()}};
  venue::BinanceOrderEncoder encoder;
  std::unique_ptr<venue::BinanceTrader> trader;

  Rig() {
    feed = std::make_unique<venue::BinanceFeed>(instruments, books, venue::BinanceFeedConfig{});
    engine::BracketConfig bracket;
    bracket.stop_distance = 10;
    bracket.fixed_qty_lots = 2;
    CHECK(strategy.try_configure(bracket) == engine::BracketError::kOk);
    engine::EngineConfig config;
    config.order_capacity = 16;
    config.intent_capacity = 16;
    CHECK(engine->try_init(instruments, config, &strategy) == engine::EngineError::kOk);
    CHECK(engine->composite().try_set_weight(signal::Feature::kImbalance, 1.0) == signal::SignalError::kOk);
    CHECK(engine->composite().try_set_threshold(0.5) == signal::SignalError::kOk);
    CHECK(encoder.try_init(instruments, "KEY", &mac) == venue::EncodeError::kOk);
    trader = std::make_unique<venue::BinanceTrader>(*feed, *engine, encoder);
  }
};

void test_frame_to_signed_order() {
  Rig rig;
  CHECK(rig.feed->sink() == rig.engine.get());
  CHECK(rig.feed->apply_snapshot(0, kSnapshot, 5) == venue::FrameStatus::kOk);
  CHECK_EQ(rig.trader->pending(), 0U);
  // Bid-heavy top of book: the imbalance crosses +0.5, the bracket enters long with an IOC buy at the ask.
  const std::string frame = depth(1000, 1001, 999, "50.000", "1.000");
  const std::int64_t ts = 1'700'000'000'123'000'000;
  CHECK_EQ(rig.trader->on_frame(frame.data(), frame.size(), ts), 0);
  CHECK_EQ(rig.trader->pending(), 1U);
  const std::string_view request(rig.trader->request(0), rig.trader->request_size(0));
  CHECK(request.find(R"("method":"order.place")") != std::string_view::npos);
  CHECK(request.find(R"("side":"BUY")") != std::string_view::npos);
  CHECK(request.find(R"("timeInForce":"IOC")") != std::string_view::npos);
  CHECK(request.find(R"("price":"100.1")") != std::string_view::npos);
  CHECK(request.find(R"("quantity":"0.002")") != std::string_view::npos);
  CHECK(request.find(R"("timestamp":1700000000123)") != std::string_view::npos);
  CHECK(request.find(R"("signature":")") != std::string_view::npos);
  // The request is what the encoder writes for the engine's intent, byte for byte.
  engine::OrderIntent intent{};
  intent.kind = engine::IntentKind::kNew;
  const auto start = request.find(R"("id":"place-)") + 12;
  intent.order_id = std::stoull(std::string(request.substr(start, request.find('"', start) - start)));
  intent.side = common::Side::kBid;
  intent.px_ticks = 1001;
  intent.qty_lots = 2;
  intent.tif = engine::TimeInForce::kIoc;
  char expected[venue::BinanceOrderEncoder::kMaxRequestBytes];
  std::size_t length = 0;
  CHECK(rig.encoder.try_encode(intent, ts / 1'000'000, expected, length) == venue::EncodeError::kOk);
  CHECK(std::string_view(expected, length) == request);
  rig.trader->mark_sent();
  CHECK_EQ(rig.trader->pending(), 0U);
  CHECK_EQ(rig.trader->counters().sent, 1U);
  CHECK(rig.engine->intents().empty());

  // The IOC expires (venue answer): flat again; the opposite crossing enters short.
  engine::ExecutionReport report{};
  report.order_id = intent.order_id;
  report.kind = engine::ReportKind::kCancelled;
  report.reason = engine::ReportReason::kNoLiquidity;
  report.side = common::Side::kBid;
  report.px_ticks = 1001;
  CHECK(rig.trader->on_reports({&report, 1}, ts + 10));
  CHECK_EQ(rig.trader->pending(), 0U);
  const std::string second = depth(1002, 1002, 1001, "1.000", "50.000");
  CHECK_EQ(rig.trader->on_frame(second.data(), second.size(), ts + 20), 0);
  CHECK_EQ(rig.trader->pending(), 1U);
  CHECK(std::string_view(rig.trader->request(0), rig.trader->request_size(0)).find(R"("side":"SELL")") !=
        std::string_view::npos);

  // Nothing to send them on: the pending order is rejected back, the engine forgets it.
  CHECK(rig.engine->risk().working_orders() == 1);
  rig.trader->reject_pending(ts + 30);
  CHECK_EQ(rig.trader->pending(), 0U);
  CHECK_EQ(rig.trader->counters().unsent, 1U);
  CHECK(rig.engine->risk().working_orders() == 0);
}

void test_partial_send_rejects_the_rest() {
  Rig rig;
  CHECK(rig.feed->apply_snapshot(0, kSnapshot, 5) == venue::FrameStatus::kOk);
  const std::string frame = depth(1000, 1001, 999, "50.000", "1.000");
  CHECK_EQ(rig.trader->on_frame(frame.data(), frame.size(), 100), 0);
  CHECK_EQ(rig.trader->pending(), 1U);
  // Nothing left (the send raised before the first request): the order goes back as rejected.
  rig.trader->reject_from(0, 200);
  CHECK_EQ(rig.trader->counters().sent, 0U);
  CHECK_EQ(rig.trader->counters().unsent, 1U);
  CHECK(rig.engine->risk().working_orders() == 0);
  // Everything left: counted sent, nothing rejected.
  const std::string second = depth(1002, 1002, 1001, "1.000", "50.000");
  CHECK_EQ(rig.trader->on_frame(second.data(), second.size(), 300), 0);
  CHECK_EQ(rig.trader->pending(), 1U);
  rig.trader->reject_from(1, 400);
  CHECK_EQ(rig.trader->counters().sent, 1U);
  CHECK_EQ(rig.trader->counters().unsent, 1U);
  CHECK(rig.engine->risk().working_orders() == 1);
}

void test_bad_frame_sends_nothing() {
  Rig rig;
  CHECK(rig.feed->apply_snapshot(0, kSnapshot, 5) == venue::FrameStatus::kOk);
  const std::string junk = R"({"e":"depthUpdate","s":"BTCUSDT","U":1)";
  CHECK_EQ(rig.trader->on_frame(junk.data(), junk.size(), 1), static_cast<int>(venue::FrameStatus::kBadFrame));
  CHECK_EQ(rig.trader->pending(), 0U);
  CHECK_EQ(rig.trader->counters().frames, 1U);
}

void test_sink_detached_on_destruction() {
  Rig rig;
  rig.trader.reset();
  CHECK(rig.feed->sink() == nullptr);
}

}  // namespace

int main() {
  test_frame_to_signed_order();
  test_partial_send_rejects_the_rest();
  test_bad_frame_sends_nothing();
  test_sink_detached_on_destruction();
  return report("test_binance_trader");
}
