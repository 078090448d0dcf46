// BinanceFeed: parsing every frame kind, every class of bad input, and Binance's sync rules.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "binance_support.hpp"
#include "check.hpp"
#include "fastcore/book/book_set.hpp"
#include "fastcore/common/decimal.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/venue/binance.hpp"
#include "fastcore/venue/wire_decimal.hpp"

using namespace fastcore;
using common::DecimalError;
using common::Event;
using common::EventKind;
using common::Side;
using venue::BadFrameReason;
using venue::BinanceFeed;
using venue::BinanceFeedConfig;
using venue::BinanceMarket;
using venue::FrameStatus;
using venue::SyncState;

using binance_support::make;
using binance_support::Recorder;

namespace {

struct Fixture {
  explicit Fixture(BinanceMarket market = BinanceMarket::kUsdm, std::size_t max_frame = 1 << 16,
                   std::size_t max_buffered = 1000)
      : books(2) {
    BinanceFeedConfig config;
    config.market = market;
    config.max_frame_bytes = max_frame;
    config.max_buffered_diffs = max_buffered;
    feed = std::make_unique<BinanceFeed>(
        std::vector<common::Instrument>{make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.01", "0.001")}, books,
        config);
    feed->set_sink(&sink);
  }
  FrameStatus frame(const std::string& text, std::int64_t ts = 7) { return feed->on_frame(text, ts); }
  FrameStatus snapshot(std::uint32_t id, const std::string& text) { return feed->apply_snapshot(id, text, 9); }
  std::string error() const { return std::string(feed->last_error()); }

  book::BookSet books;
  Recorder sink;
  std::unique_ptr<BinanceFeed> feed;
};

std::string depth(const char* symbol, std::uint64_t first, std::uint64_t last, std::uint64_t prev,
                  const std::string& bids, const std::string& asks = "[]") {
  return std::string(R"({"stream":"x@depth@100ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":")") +
         symbol + R"(","U":)" + std::to_string(first) + R"(,"u":)" + std::to_string(last) + R"(,"pu":)" +
         std::to_string(prev) + R"(,"b":)" + bids + R"(,"a":)" + asks + "}}";
}

std::string spot_depth(const char* symbol, std::uint64_t first, std::uint64_t last, const std::string& bids) {
  return std::string(R"({"e":"depthUpdate","E":1,"s":")") + symbol + R"(","U":)" + std::to_string(first) +
         R"(,"u":)" + std::to_string(last) + R"(,"b":)" + bids + R"(,"a":[]})";
}

std::string snap(std::uint64_t last_update_id, const std::string& bids, const std::string& asks) {
  return R"({"lastUpdateId":)" + std::to_string(last_update_id) + R"(,"E":1723161256000,"T":1723161256000,"bids":)" +
         bids + R"(,"asks":)" + asks + "}";
}

std::int64_t qty_at(const book::BookSet& books, std::uint32_t id, Side side, std::int64_t px) {
  return books[id].side(side).qty_at(px);
}

void test_wire_decimal_matches_general_parser() {
  const char* steps[] = {"0.1", "0.01", "0.001", "1", "0.5", "5", "0.00000001", "25"};
  const char* texts[] = {"61800.20", "61800.25", "0.014", "0.000", "0", "00061800.2", "1.", ".5", "", "-1", "+1",
                         "NaN", "nan", "inf", "1e3", "1.5e-3", "99999999999999999999", "9223372036854775807",
                         "922337203685477580.7", "1.00000000000000000000000000001", "100.5", "100.3", "0.00000001",
                         "12345678901234567.8", "123456789012345678", "1234567890123456789", "7.6110", "25", "50",
                         "61737.63000000", "0.00000001", "1234567.12345678", "12345678.1", "1.123456789", "0.10",
                         "9999999.9999999", "1.0000001", "7\xfa" "1.5", "00000000", "0", "0.0", "3.00000000"};
  for (const std::size_t pad : {std::size_t{0}, std::size_t{20}}) {
  for (const char* step_text : steps) {
    common::DecimalStep step;
    CHECK(common::try_parse_step(step_text, step) == DecimalError::kOk);
    for (const char* text : texts) {
      // Bare, and padded like a frame ('"]]}' and more follow a quantity).
      std::string quoted = std::string(text) + "\"" + std::string(pad, '}');
      const char* p = quoted.data();
      std::int64_t fast = -1;
      const auto result = venue::read_quoted_steps(p, quoted.data() + quoted.size(), step, false, fast);
      std::int64_t slow = -1;
      const DecimalError expected = common::try_to_steps(text, step, false, slow);
      CHECK(result.json_ok);
      CHECK(result.decimal == expected);
      if (expected == DecimalError::kOk) CHECK_EQ(fast, slow);
      CHECK(p == quoted.data() + std::strlen(text) + 1);
    }
  }
  }
  // Random digit strings: the fast path and the general parser agree on value and error.
  std::mt19937_64 rng(42);
  common::DecimalStep step{1, 3};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int int_digits = static_cast<int>(rng() % 21);
    for (int d = 0; d < int_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    if (rng() % 2) {
      text += '.';
      const int frac = static_cast<int>(rng() % 8);
      for (int d = 0; d < frac; ++d) text += static_cast<char>('0' + (rng() % 3 == 0 ? rng() % 10 : 0));
    }
    step.decimals = static_cast<std::int32_t>(rng() % 9);
    step.units = (rng() % 4 == 0) ? 5 : 1;
    const std::string quoted = text + "\"" + std::string(i % 2 ? 20 : 0, ']');
    const char* p = quoted.data();
    std::int64_t fast = -1;
    const auto result = venue::read_quoted_steps(p, quoted.data() + quoted.size(), step, false, fast);
    std::int64_t slow = -1;
    const DecimalError expected = common::try_to_steps(text, step, false, slow);
    CHECK(result.decimal == expected);
    if (expected == DecimalError::kOk && fast != slow) {
      std::fprintf(stderr, "mismatch on '%s': %lld vs %lld\n", text.c_str(), static_cast<long long>(fast),
                   static_cast<long long>(slow));
      CHECK(false);
    }
  }
  // JSON problems are told apart from decimal errors.
  const std::string unterminated = "61800.2";
  const char* p = unterminated.data();
  std::int64_t out = 0;
  CHECK(!venue::read_quoted_steps(p, unterminated.data() + unterminated.size(), {1, 1}, false, out).json_ok);
  // A frame that ends right at a level's opening quote: nothing to read, never a read past the end.
  const std::string opening = "[\"";
  p = opening.data() + opening.size();
  CHECK(!venue::read_quoted_steps(p, opening.data() + opening.size(), {1, 1}, false, out).json_ok);
  const std::string escaped = "618\\u0030\"";
  p = escaped.data();
  CHECK(!venue::read_quoted_steps(p, escaped.data() + escaped.size(), {1, 1}, false, out).json_ok);
}

void test_symbol_lookup() {
  Fixture f;
  std::uint32_t id = 99;
  CHECK(f.feed->try_find("BTCUSDT", id) && id == 0);
  CHECK(f.feed->try_find("ethusdt", id) && id == 1);
  CHECK(!f.feed->try_find("BTCUSD", id));
  CHECK(!f.feed->try_find("", id));
}

void test_usdm_sync_and_events() {
  Fixture f;
  // Diffs before the snapshot are buffered; the first asks for a snapshot, once.
  CHECK(f.frame(depth("BTCUSDT", 5, 9, 4, R"([["1.0","1"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.feed->state(0) == SyncState::kSyncing);
  CHECK(f.frame(depth("BTCUSDT", 10, 12, 9, R"([["1.1","2"]])")) == FrameStatus::kOk);
  CHECK(f.feed->buffered(0) == 2);
  CHECK(f.sink.all.empty());
  // Snapshot at 11: diff 5-9 is stale, 10-12 straddles it and is applied after the snapshot.
  CHECK(f.snapshot(0, snap(11, R"([["1.0","1"],["1.1","5"]])", R"([["1.3","7"]])")) == FrameStatus::kOk);
  CHECK(f.feed->state(0) == SyncState::kLive);
  CHECK(f.feed->counters().stale_drops == 1 && f.feed->counters().applied_diffs == 1);
  CHECK(qty_at(f.books, 0, Side::kBid, 11) == 2000 && qty_at(f.books, 0, Side::kBid, 10) == 1000);
  CHECK(qty_at(f.books, 0, Side::kAsk, 13) == 7000);
  CHECK(f.books[0].seq() == 12);
  CHECK(f.sink.batches.size() == 1);
  CHECK(f.sink.all.size() == 5);  // clear, 3 snapshot levels, 1 delta
  CHECK(f.sink.all[0].kind == EventKind::kClear && f.sink.all[0].seq == 11);
  CHECK(f.sink.all[3].kind == EventKind::kSnapshotLevel && (f.sink.all[3].flags & common::kFlagLastInMessage));
  CHECK(f.sink.all[4].kind == EventKind::kDelta && f.sink.all[4].seq == 12 && f.sink.all[4].ts_local_ns == 7 &&
        f.sink.all[4].ts_exchange_ns == 1723161256299LL * 1000000 && f.sink.all[4].venue_id == 1);
  // Chain: pu == previous u applies; a duplicate is stale; a broken pu is a gap.
  CHECK(f.frame(depth("BTCUSDT", 13, 15, 12, R"([["1.2","3"]])", R"([["1.3","0"]])")) == FrameStatus::kOk);
  CHECK(qty_at(f.books, 0, Side::kBid, 12) == 3000 && qty_at(f.books, 0, Side::kAsk, 13) == 0);
  CHECK(f.frame(depth("BTCUSDT", 13, 15, 12, R"([["1.2","9"]])")) == FrameStatus::kOk);
  CHECK(qty_at(f.books, 0, Side::kBid, 12) == 3000);
  CHECK(f.feed->counters().stale_drops == 2);
  // ETH is synced meanwhile; BTC's gap must not touch it.
  CHECK(f.frame(depth("ETHUSDT", 100, 100, 99, R"([["5.00","1"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.snapshot(1, snap(100, R"([["4.99","2"]])", "[]")) == FrameStatus::kOk);
  CHECK(f.feed->state(1) == SyncState::kLive && qty_at(f.books, 1, Side::kBid, 500) == 1000);
  CHECK(f.frame(depth("BTCUSDT", 20, 22, 18, R"([["1.2","0"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.feed->state(0) == SyncState::kResync);
  CHECK(f.feed->state(1) == SyncState::kLive);
  CHECK(f.books[0].bids().empty() && f.books[0].seq() == 0);
  CHECK(f.sink.all.back().kind == EventKind::kClear && f.sink.all.back().seq == 0);
  CHECK(f.feed->counters().gaps == 1 && f.feed->counters().resyncs == 1);
  CHECK(f.feed->buffered(0) == 1);  // the diff after the hole is kept for the next snapshot
  CHECK(f.frame(depth("BTCUSDT", 23, 25, 22, R"([["1.2","4"]])")) == FrameStatus::kOk);
  // A snapshot older than the buffered diffs cannot connect: another is needed.
  CHECK(f.snapshot(0, snap(15, R"([["1.0","1"]])", "[]")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.feed->state(0) == SyncState::kResync);
  CHECK(f.error().find("older than the first buffered diff") != std::string::npos);
  CHECK(f.snapshot(0, snap(21, R"([["1.0","1"]])", "[]")) == FrameStatus::kOk);
  CHECK(f.feed->state(0) == SyncState::kLive && f.books[0].seq() == 25);
  CHECK(qty_at(f.books, 0, Side::kBid, 12) == 4000 && qty_at(f.books, 0, Side::kBid, 10) == 1000);
  CHECK(f.feed->state(1) == SyncState::kLive && qty_at(f.books, 1, Side::kBid, 500) == 1000);
  // Snapshot with nothing buffered: the next diff must straddle it.
  f.feed->resync(0);
  CHECK(f.feed->state(0) == SyncState::kResync);
  CHECK(f.snapshot(0, snap(30, R"([["1.0","2"]])", "[]")) == FrameStatus::kOk);
  CHECK(f.frame(depth("BTCUSDT", 26, 29, 25, R"([["1.0","9"]])")) == FrameStatus::kOk);  // u < L: stale
  CHECK(qty_at(f.books, 0, Side::kBid, 10) == 2000);
  CHECK(f.frame(depth("BTCUSDT", 29, 31, 29, R"([["1.0","3"]])")) == FrameStatus::kOk);  // U <= L <= u
  CHECK(qty_at(f.books, 0, Side::kBid, 10) == 3000 && f.books[0].seq() == 31);
  // An empty diff still advances u.
  CHECK(f.frame(depth("BTCUSDT", 32, 33, 31, "[]")) == FrameStatus::kOk);
  CHECK(f.books[0].seq() == 33);
  CHECK(f.frame(depth("BTCUSDT", 34, 35, 33, R"([["1.0","4"]])")) == FrameStatus::kOk);
  CHECK(qty_at(f.books, 0, Side::kBid, 10) == 4000);
}

void test_buffer_hole_and_first_straddle_gap() {
  Fixture f;
  CHECK(f.frame(depth("BTCUSDT", 10, 12, 9, R"([["1.0","1"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.frame(depth("BTCUSDT", 15, 16, 14, R"([["1.0","2"]])")) == FrameStatus::kOk);  // pu 14 != 12
  CHECK(f.snapshot(0, snap(11, "[]", "[]")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.feed->state(0) == SyncState::kSyncing);
  CHECK(f.snapshot(0, snap(15, "[]", "[]")) == FrameStatus::kOk);  // the kept diff 15-16 straddles 15
  CHECK(qty_at(f.books, 0, Side::kBid, 10) == 2000);
  // Live, first diff after a bare snapshot that does not straddle it: a gap.
  f.feed->resync(0);
  CHECK(f.snapshot(0, snap(20, "[]", "[]")) == FrameStatus::kOk);
  CHECK(f.frame(depth("BTCUSDT", 22, 23, 21, R"([["1.0","1"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.feed->state(0) == SyncState::kResync);
}

void test_spot_rules() {
  Fixture f(BinanceMarket::kSpot);
  CHECK(f.frame(spot_depth("BTCUSDT", 10, 12, R"([["2.0","1"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.frame(spot_depth("BTCUSDT", 13, 14, R"([["2.1","1"]])")) == FrameStatus::kOk);
  // Spot: stale u <= L; first U <= L + 1 <= u. L = 12 drops 10-12 and starts at 13-14.
  CHECK(f.snapshot(0, snap(12, R"([["1.9","1"]])", "[]")) == FrameStatus::kOk);
  CHECK(qty_at(f.books, 0, Side::kBid, 20) == 0 && qty_at(f.books, 0, Side::kBid, 21) == 1000);
  CHECK(f.feed->counters().stale_drops == 1);
  CHECK(f.frame(spot_depth("BTCUSDT", 15, 15, R"([["2.1","2"]])")) == FrameStatus::kOk);  // U == u + 1
  CHECK(qty_at(f.books, 0, Side::kBid, 21) == 2000);
  CHECK(f.frame(spot_depth("BTCUSDT", 17, 18, R"([["2.1","3"]])")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.feed->state(0) == SyncState::kResync);
  // Spot frames carry no pu: the usdm feed refuses them, the spot one does not need it.
  Fixture usdm;
  CHECK(usdm.frame(spot_depth("BTCUSDT", 10, 12, "[]")) == FrameStatus::kBadFrame);
  CHECK(usdm.feed->last_bad_reason() == BadFrameReason::kMissingField);
  CHECK(usdm.error().find("'pu'") != std::string::npos);
}

void test_book_ticker_trades_control() {
  Fixture f;
  CHECK(f.frame(R"({"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":400900217,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"3.330","T":1,"E":1723161256313}})") ==
        FrameStatus::kOk);
  CHECK(f.sink.all.size() == 2);
  CHECK(f.sink.all[0].kind == EventKind::kBbo && f.sink.all[0].side == Side::kBid && f.sink.all[0].px_ticks == 618002 &&
        f.sink.all[0].qty_lots == 2507 && f.sink.all[0].seq == 400900217);
  CHECK(f.sink.all[1].side == Side::kAsk && f.sink.all[1].px_ticks == 618003 && f.sink.all[1].qty_lots == 3330 &&
        (f.sink.all[1].flags & common::kFlagLastInMessage));
  // Spot bookTicker: no "e", no "E": recognised by its fields.
  CHECK(f.frame(R"({"u":5,"s":"ETHUSDT","b":"2500.01","B":"1.000","a":"2500.02","A":"0.5"})") == FrameStatus::kOk);
  CHECK(f.sink.all.size() == 4 && f.sink.all[2].instrument_id == 1 && f.sink.all[2].ts_exchange_ns == 0);
  CHECK(f.frame(R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}})") ==
        FrameStatus::kOk);
  const Event& trade = f.sink.all.back();
  CHECK(trade.kind == EventKind::kTrade && trade.side == Side::kBid && trade.aux == 5266583935ULL &&
        trade.px_ticks == 618003 && trade.qty_lots == 6 && trade.seq == 0);
  CHECK(f.frame(R"({"e":"aggTrade","E":1,"a":26129,"s":"BTCUSDT","p":"61800.1","q":"0.100","f":100,"l":105,"T":1,"m":true})") ==
        FrameStatus::kOk);
  CHECK(f.sink.all.back().side == Side::kAsk && f.sink.all.back().aux == 26129);
  CHECK(f.feed->counters().trades == 2 && f.feed->counters().book_tickers == 2);
  // Control frames and ignored types.
  CHECK(f.frame(R"({"result":null,"id":1})") == FrameStatus::kControl);
  CHECK(f.frame(R"({"id":2,"result":["btcusdt@depth"]})") == FrameStatus::kControl);
  CHECK(f.frame(R"({"error":{"code":2,"msg":"Invalid request"},"id":3})") == FrameStatus::kControl);
  CHECK(f.frame(R"({"code":-1121,"msg":"Invalid symbol."})") == FrameStatus::kControl);
  CHECK(f.feed->counters().control == 4 && f.feed->counters().error_replies == 2);
  CHECK(f.frame(R"({"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1,"o":"1.0","x":false}}})") ==
        FrameStatus::kIgnored);
  CHECK(f.frame(R"({"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1.0","r":"0.0001","T":1})") == FrameStatus::kIgnored);
  CHECK(f.frame("{}") == FrameStatus::kIgnored);
  CHECK(f.frame(depth("XRPUSDT", 1, 2, 0, R"([["1.0","1"]])")) == FrameStatus::kUnknownSymbol);
  CHECK(f.frame(R"({"e":"trade","E":1,"s":"XRPUSDT","t":1,"p":"1","q":"1","m":true})") == FrameStatus::kUnknownSymbol);
  CHECK(f.feed->counters().unknown_symbol == 2);
  CHECK(f.feed->counters().bad_frames == 0);
}

void test_field_order_and_whitespace() {
  Fixture f;
  CHECK(f.snapshot(0, snap(2, "[]", "[]")) == FrameStatus::kOk);
  // Levels before the symbol and type, whitespace everywhere, data before stream.
  const std::string frame =
      " { \"data\" : { \"b\" : [ [ \"1.0\" , \"1\" ] ] , \"a\" : [ [\"1.2\",\"2\"] ], \"u\" : 3 , \"pu\" : 1, "
      "\"U\" : 2 , \"s\" : \"BTCUSDT\" , \"e\" : \"depthUpdate\" , \"E\" : 1 } , \"stream\" : \"btcusdt@depth\" }\n";
  CHECK(f.frame(frame) == FrameStatus::kOk);
  CHECK(qty_at(f.books, 0, Side::kBid, 10) == 1000 && qty_at(f.books, 0, Side::kAsk, 12) == 2000);
  CHECK(f.books[0].seq() == 3);
  // Unknown fields of every JSON type are skipped.
  CHECK(f.frame(R"({"e":"depthUpdate","x":{"y":[1,2.5e3,-1,true,false,null,"s\"\\\u00e9"]},"E":1,"s":"BTCUSDT","U":4,"u":4,"pu":3,"b":[],"a":[["1.2","0"]]})") ==
        FrameStatus::kOk);
  CHECK(qty_at(f.books, 0, Side::kAsk, 12) == 0);
}

struct BadCase {
  const char* name;
  std::string frame;
  BadFrameReason reason;
  const char* in_error;
};

void test_bad_inputs() {
  const std::vector<BadCase> cases = {
      {"truncated", depth("BTCUSDT", 2, 3, 1, R"([["1.0","1"]])").substr(0, 90), BadFrameReason::kMalformedJson, "malformed_json"},
      {"trailing garbage", depth("BTCUSDT", 2, 3, 1, "[]") + "x", BadFrameReason::kMalformedJson, "text after"},
      {"not an object", "[1,2]", BadFrameReason::kMalformedJson, "malformed_json"},
      {"empty", "", BadFrameReason::kMalformedJson, "malformed_json"},
      {"missing U", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","u":3,"pu":1,"b":[],"a":[]})", BadFrameReason::kMissingField, "'U'"},
      {"missing levels", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":2,"u":3,"pu":1,"a":[]})", BadFrameReason::kMissingField, "'b'"},
      {"string id", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":"2","u":3,"pu":1,"b":[],"a":[]})", BadFrameReason::kWrongType, "'U' value '\"2\"'"},
      {"levels object", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":2,"u":3,"pu":1,"b":{},"a":[]})", BadFrameReason::kWrongType, "'b'"},
      {"negative id", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":-2,"u":3,"pu":1,"b":[],"a":[]})", BadFrameReason::kBadNumber, "'U' value '-2'"},
      {"fractional id", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":2.5,"u":3,"pu":1,"b":[],"a":[]})", BadFrameReason::kBadNumber, "2.5"},
      {"huge id", R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":2,"u":99999999999999999999999,"pu":1,"b":[],"a":[]})", BadFrameReason::kBadNumber, "'u'"},
      {"huge time", R"({"e":"depthUpdate","E":9999999999999999,"s":"BTCUSDT","U":2,"u":3,"pu":1,"b":[],"a":[]})", BadFrameReason::kBadNumber, "'E'"},
      {"too many decimals", depth("BTCUSDT", 2, 3, 1, R"([["61800.25","1"]])"), BadFrameReason::kBadDecimal, "'61800.25': more decimals than the increment allows (tick size 0.1)"},
      {"NaN price", depth("BTCUSDT", 2, 3, 1, R"([["NaN","1"]])"), BadFrameReason::kBadDecimal, "NaN or infinity"},
      {"huge qty", depth("BTCUSDT", 2, 3, 1, R"([["1.0","99999999999999999999999"]])"), BadFrameReason::kBadDecimal, "(lot size 0.001)"},
      {"negative qty", depth("BTCUSDT", 2, 3, 1, R"([["1.0","-1"]])"), BadFrameReason::kBadDecimal, "negative"},
      {"number level", depth("BTCUSDT", 2, 3, 1, R"([[1.0,"1"]])"), BadFrameReason::kMalformedJson, "'b'"},
      {"three-element level", depth("BTCUSDT", 2, 3, 1, R"([["1.0","1","x"]])"), BadFrameReason::kMalformedJson, "'b'"},
      {"U > u", depth("BTCUSDT", 5, 3, 1, "[]"), BadFrameReason::kBadUpdateIds, "U=5 > u=3"},
      {"escaped symbol", R"({"e":"depthUpdate","E":1,"s":"BTC\u0055SDT","U":2,"u":3,"pu":1,"b":[],"a":[]})", BadFrameReason::kWrongType, "'s'"},
      {"control char", std::string("{\"e\":\"depthUpdate\",\"s\":\"BTC\x01USDT\"}"), BadFrameReason::kMalformedJson, "control character"},
      {"deep nesting", std::string("{\"x\":") + std::string(100, '[') + std::string(100, ']') + "}", BadFrameReason::kMalformedJson, "nested too deep"},
      {"stream without data", R"({"stream":"btcusdt@depth"})", BadFrameReason::kMissingField, "'data'"},
      {"data not object", R"({"stream":"btcusdt@depth","data":[1]})", BadFrameReason::kWrongType, "'data'"},
      {"bookTicker NaN", R"({"u":5,"s":"BTCUSDT","b":"nan","B":"1","a":"1.0","A":"1"})", BadFrameReason::kBadDecimal, "NaN"},
      {"bookTicker missing A", R"({"e":"bookTicker","u":5,"s":"BTCUSDT","b":"1.0","B":"1","a":"1.0"})", BadFrameReason::kMissingField, "'A'"},
      {"trade bool as string", R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1","m":"true"})", BadFrameReason::kWrongType, "'m'"},
      {"trade inf", R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"Infinity","q":"1","m":true})", BadFrameReason::kBadDecimal, "'p'"},
      {"bad literal", R"({"e":"trade","m":tru})", BadFrameReason::kMalformedJson, "malformed_json"},
      {"bad escape", R"({"e":"\q"})", BadFrameReason::kMalformedJson, "bad escape"},
  };
  for (const auto& c : cases) {
    Fixture f;
    CHECK(f.snapshot(0, snap(1, R"([["1.0","1"]])", "[]")) == FrameStatus::kOk);
    const FrameStatus status = f.frame(c.frame);
    if (status != FrameStatus::kBadFrame || f.feed->last_bad_reason() != c.reason ||
        f.error().find(c.in_error) == std::string::npos) {
      std::fprintf(stderr, "bad case '%s': status %s, reason %s, error '%s'\n", c.name, venue::describe(status),
                   venue::describe(f.feed->last_bad_reason()), f.error().c_str());
      CHECK(false);
    }
    CHECK(f.feed->counters().bad_frames == 1);
    CHECK(f.feed->counters().bad_by_reason[static_cast<std::size_t>(c.reason)] == 1);
    // Never a wrong book: a refused depth frame for a known symbol resyncs it (book emptied); the
    // other symbol is untouched.
    const bool depth_of_btc = std::string(c.frame).find("depthUpdate") != std::string::npos &&
                              std::string(c.frame).find("BTCUSDT") != std::string::npos;
    if (depth_of_btc && c.reason != BadFrameReason::kMalformedJson) {
      CHECK(f.feed->state(0) == SyncState::kResync);
      CHECK(f.books[0].bids().empty());
    }
    if (f.feed->state(0) == SyncState::kLive) CHECK(qty_at(f.books, 0, Side::kBid, 10) == 1000);
    CHECK(f.feed->state(1) == SyncState::kSyncing);
  }
  // A frame past max_frame_bytes is refused unread.
  Fixture small(BinanceMarket::kUsdm, 64);
  CHECK(small.frame(depth("BTCUSDT", 2, 3, 1, "[]")) == FrameStatus::kBadFrame);
  CHECK(small.feed->last_bad_reason() == BadFrameReason::kTooLarge);
  // A bad snapshot changes nothing.
  Fixture f;
  CHECK(f.snapshot(0, snap(5, R"([["1.0","1"]])", "[]")) == FrameStatus::kOk);
  CHECK(f.snapshot(0, snap(9, R"([["1.05","1"]])", "[]")) == FrameStatus::kBadFrame);
  CHECK(f.error().find("BTCUSDT depth snapshot") != std::string::npos);
  CHECK(f.feed->state(0) == SyncState::kLive && qty_at(f.books, 0, Side::kBid, 10) == 1000 && f.books[0].seq() == 5);
  CHECK(f.snapshot(0, R"({"code":-1121,"msg":"Invalid symbol."})") == FrameStatus::kBadFrame);
  CHECK(f.error().find("Invalid symbol") != std::string::npos);
  CHECK(f.snapshot(0, R"({"lastUpdateId":5,"bids":[]})") == FrameStatus::kBadFrame);
  CHECK(f.snapshot(7, snap(5, "[]", "[]")) == FrameStatus::kBadFrame);
}

void test_buffer_overflow() {
  Fixture f(BinanceMarket::kUsdm, 1 << 16, 8);
  std::uint64_t u = 1;
  for (int i = 0; i < 20; ++i, ++u) {
    (void)f.frame(depth("BTCUSDT", u, u, u - 1, R"([["1.0","1"]])"));
  }
  CHECK(f.feed->buffered(0) <= 8);
  CHECK(f.feed->counters().buffer_overflows > 0);
  // A snapshot needing a dropped diff cannot connect; a recent one can.
  CHECK(f.snapshot(0, snap(2, "[]", "[]")) == FrameStatus::kNeedsSnapshot);
  CHECK(f.snapshot(0, snap(18, "[]", "[]")) == FrameStatus::kOk);
  CHECK(f.books[0].seq() == 20);
}

void test_resync_all() {
  Fixture f;
  CHECK(f.snapshot(0, snap(5, R"([["1.0","1"]])", "[]")) == FrameStatus::kOk);
  CHECK(f.snapshot(1, snap(5, R"([["1.00","1"]])", "[]")) == FrameStatus::kOk);
  f.feed->resync_all();
  CHECK(f.feed->state(0) == SyncState::kResync && f.feed->state(1) == SyncState::kResync);
  CHECK(f.books[0].bids().empty() && f.books[1].bids().empty());
}

}  // namespace

int main() {
  test_wire_decimal_matches_general_parser();
  test_symbol_lookup();
  test_usdm_sync_and_events();
  test_buffer_hole_and_first_straddle_gap();
  test_spot_rules();
  test_book_ticker_trades_control();
  test_field_order_and_whitespace();
  test_bad_inputs();
  test_buffer_overflow();
  test_resync_all();
  return report("test_binance");
}
