// BinanceFeed's two readers agree: the key-order fast path and the general scanner give the same
// statuses, events, errors, counters and books, frame by frame, on every recorded Binance frame in
// ../shared/data, on the same frames with their keys reordered or spaced out (which only the scanner
// reads), and on mutated frames (which exercise where the fast path gives up).
//
// Recordings: $RENTRADE_SHARED_DATA or ../shared/data beside the repository. Without them (or without
// zlib for the .gz files) those parts are skipped, unless RENTRADE_REQUIRE_RECORDINGS=1, which makes
// a missing recording a failure, as in the Python suite.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <tuple>
#include <vector>

#if RENTRADE_HAVE_ZLIB
#include <zlib.h>
#endif

#include "binance_support.hpp"
#include "check.hpp"
#include "fastcore/book/book_set.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/venue/binance.hpp"
#include "fastcore/venue/wire_decimal.hpp"

using namespace fastcore;
using common::Event;
using venue::BinanceFeed;
using venue::BinanceFeedConfig;
using venue::BinanceMarket;
using venue::FrameStatus;

using binance_support::make;
using binance_support::Recorder;

namespace {

bool same_events(std::span<const Event> a, std::span<const Event> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(Event)) == 0);
}

bool same_counters(const venue::FeedCounters& a, const venue::FeedCounters& b) {
  venue::FeedCounters x = a;
  venue::FeedCounters y = b;
  x.fast_path_frames = y.fast_path_frames = 0;  // the one counter that says which reader ran
  return std::memcmp(&x, &y, sizeof x) == 0;
}

// One feed per reader, same instruments and config; every frame goes to both and must come out the same.
struct Twin {
  Twin(std::vector<common::Instrument> instruments, BinanceMarket market, bool left_fast = true,
       bool right_fast = false)
      : books_left(instruments.size(), 5000), books_right(instruments.size(), 5000) {
    BinanceFeedConfig config;
    config.market = market;
    config.max_buffered_diffs = 100'000;
    config.fast_path = left_fast;
    left = std::make_unique<BinanceFeed>(instruments, books_left, config);
    config.fast_path = right_fast;
    right = std::make_unique<BinanceFeed>(instruments, books_right, config);
    left->set_sink(&sink_left);
    right->set_sink(&sink_right);
  }

  // `left_frame` to the left feed, `right_frame` (the same frame, or a respelling of it) to the right.
  void frame(std::string_view left_frame, std::string_view right_frame, std::int64_t ts) {
    const FrameStatus a = left->on_frame(left_frame, ts);
    const FrameStatus b = right->on_frame(right_frame, ts);
    compare(a, b, left_frame);
  }
  void snapshot(std::uint32_t id, std::string_view body, std::int64_t ts) {
    const FrameStatus a = left->apply_snapshot(id, body, ts);
    const FrameStatus b = right->apply_snapshot(id, body, ts);
    compare(a, b, body);
  }

  void compare(FrameStatus a, FrameStatus b, std::string_view what) {
    const bool ok = a == b && same_events(left->last_events(), right->last_events()) &&
                    left->last_error() == right->last_error() && left->last_bad_reason() == right->last_bad_reason() &&
                    left->last_instrument_id() == right->last_instrument_id() &&
                    same_counters(left->counters(), right->counters());
    if (!ok && mismatches++ < 5) {
      std::fprintf(stderr, "readers disagree (%s vs %s; '%.*s' vs '%.*s') on: %.*s\n", venue::describe(a),
                   venue::describe(b), static_cast<int>(left->last_error().size()), left->last_error().data(),
                   static_cast<int>(right->last_error().size()), right->last_error().data(),
                   static_cast<int>(std::min<std::size_t>(what.size(), 300)), what.data());
    }
    CHECK(ok);
  }

  // Books, states and the whole event stream are the same; every level any event touched holds the same.
  void check_end_state() {
    CHECK(same_events(sink_left.all, sink_right.all));
    CHECK(sink_left.batches == sink_right.batches);
    for (std::uint32_t id = 0; id < left->size(); ++id) {
      CHECK(left->state(id) == right->state(id));
      CHECK_EQ(left->buffered(id), right->buffered(id));
      const book::Book& x = books_left[id];
      const book::Book& y = books_right[id];
      CHECK_EQ(x.seq(), y.seq());
      CHECK_EQ(x.bids().size(), y.bids().size());
      CHECK_EQ(x.asks().size(), y.asks().size());
    }
    std::set<std::tuple<std::uint32_t, int, std::int64_t>> touched;
    for (const Event& event : sink_left.all) {
      if (event.kind == common::EventKind::kDelta || event.kind == common::EventKind::kSnapshotLevel) {
        touched.emplace(event.instrument_id, static_cast<int>(event.side), event.px_ticks);
      }
    }
    for (const auto& [id, side, px] : touched) {
      const auto s = static_cast<common::Side>(side);
      CHECK_EQ(books_left[id].side(s).qty_at(px), books_right[id].side(s).qty_at(px));
    }
  }

  book::BookSet books_left;
  book::BookSet books_right;
  Recorder sink_left;
  Recorder sink_right;
  std::unique_ptr<BinanceFeed> left;
  std::unique_ptr<BinanceFeed> right;
  int mismatches = 0;
};

// --- recordings -------------------------------------------------------------------------------------

bool require_recordings() {
  const char* value = std::getenv("RENTRADE_REQUIRE_RECORDINGS");
  return value != nullptr && std::string(value) == "1";
}

std::string data_dir() {
  const char* configured = std::getenv("RENTRADE_SHARED_DATA");
  if (configured != nullptr && *configured != '\0') return configured;
  return RENTRADE_DEFAULT_SHARED_DATA;
}

// The lines of a text or gzip file; false when it cannot be read.
bool read_lines(const std::string& path, std::vector<std::string>& lines) {
  std::string text;
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
#if RENTRADE_HAVE_ZLIB
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) return false;
    char buffer[1 << 16];
    int n = 0;
    while ((n = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    gzclose(file);
    if (n < 0) return false;
#else
    return false;
#endif
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream content;
    content << in.rdbuf();
    text = content.str();
  }
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t stop = text.find('\n', start);
    if (stop == std::string::npos) stop = text.size();
    lines.emplace_back(text, start, stop - start);
    start = stop + 1;
  }
  return true;
}

bool missing(const std::string& path) {
  std::fprintf(stderr, "%s: %s\n", require_recordings() ? "FAIL" : "SKIP",
               ("cannot read " + path + " (recordings or zlib missing)").c_str());
  CHECK(!require_recordings());
  return true;
}

// Splits the members of the JSON object starting at text[open] ('{') at its top-level commas.
// Returns the index just past its closing '}', or npos when the text is not such an object.
std::size_t split_members(const std::string& text, std::size_t open, std::vector<std::string>& members) {
  if (open >= text.size() || text[open] != '{') return std::string::npos;
  int depth = 0;
  bool in_string = false;
  std::size_t start = open + 1;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) {
        if (i > start) members.emplace_back(text, start, i - start);
        return i + 1;
      }
    } else if (c == ',' && depth == 1) {
      members.emplace_back(text, start, i - start);
      start = i + 1;
    }
  }
  return std::string::npos;
}

// The same frame with the message object's keys in a seeded random order (never Binance's order),
// and, when `spaced`, with spaces around every separator of both objects.
std::string respell(const std::string& frame, std::mt19937_64& rng, bool spaced) {
  const std::string data_key = "{\"stream\":";
  std::size_t open = 0;
  std::string prefix;
  std::string suffix;
  if (frame.compare(0, data_key.size(), data_key) == 0) {
    const std::size_t data = frame.find(",\"data\":{");
    if (data == std::string::npos) return frame;
    open = data + 8;
    prefix = spaced ? "{ " + frame.substr(1, data - 1) + " , \"data\" : " : frame.substr(0, open);
    suffix = spaced ? " }" : "}";
  }
  std::vector<std::string> members;
  const std::size_t end = split_members(frame, open, members);
  if (end == std::string::npos || members.size() < 2) return frame;
  if (open == 0 && end != frame.size()) return frame;
  const std::vector<std::string> original = members;
  while (members == original) {
    std::shuffle(members.begin(), members.end(), rng);
    // Bid levels stay before ask levels: the scanner emits levels in frame order, so swapping them
    // would only reorder a frame's events (same book), which this comparison does not allow.
    const auto bids = std::find_if(members.begin(), members.end(), [](const std::string& m) { return m.rfind("\"b\":[", 0) == 0; });
    const auto asks = std::find_if(members.begin(), members.end(), [](const std::string& m) { return m.rfind("\"a\":[", 0) == 0; });
    if (bids != members.end() && asks != members.end() && asks < bids) std::iter_swap(bids, asks);
  }
  std::string out = prefix + (spaced ? "{ " : "{");
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += spaced ? " ,\n" : ",";
    std::string member = members[i];
    if (spaced) {
      const std::size_t colon = member.find("\":");
      if (colon != std::string::npos) member.replace(colon, 2, "\" : ");
    }
    out += member;
  }
  out += spaced ? " }" : "}";
  return out + suffix;
}

struct Recording {
  const char* path;                         // under the data directory
  BinanceMarket market;
  std::vector<common::Instrument> instruments;
  bool cryptofeed;                          // "<ts>: <frame>" lines; otherwise hftbacktest "<ts_ns> <frame>"
};

std::vector<Recording> recordings() {
  return {
      {"hftbacktest/examples/usdm/btcusdt_20240808.gz", BinanceMarket::kUsdm, {make("BTCUSDT", "0.10", "0.001")}, false},
      {"hftbacktest/examples/usdm/ethusdt_20240808.gz", BinanceMarket::kUsdm, {make("ETHUSDT", "0.01", "0.001")}, false},
      {"hftbacktest/examples/spot/btcusdt_20240808.gz", BinanceMarket::kSpot,
       {make("BTCUSDT", "0.01", "0.00000001")}, false},
      {"cryptofeed-master/sample_data/BINANCE_FUTURES.ws.1.0", BinanceMarket::kUsdm,
       {make("SUSHIUSDT", "0.001", "1"), make("AKROUSDT", "0.00001", "1"), make("KEEPUSDT", "0.0001", "1"),
        make("CTKUSDT", "0.00001", "1")},
       true},
  };
}

struct Frame {
  std::string text;
  std::int64_t ts = 0;
  bool snapshot = false;
  std::uint32_t snapshot_id = 0;
};

// The frames of a recording in order; cryptofeed's REST snapshots (in the .http file) go in before
// the first frame received after them, each for its symbol.
bool load(const Recording& recording, std::vector<Frame>& frames) {
  const std::string dir = data_dir() + "/";
  std::vector<std::string> lines;
  if (!read_lines(dir + recording.path, lines)) return !missing(dir + recording.path);
  if (!recording.cryptofeed) {
    for (const std::string& line : lines) {
      const std::size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      Frame frame;
      frame.text = line.substr(space + 1);
      frame.ts = std::strtoll(line.c_str(), nullptr, 10);
      frame.snapshot = frame.text.find("\"stream\"") == std::string::npos &&
                       frame.text.find("\"lastUpdateId\"") != std::string::npos;
      frames.push_back(std::move(frame));
    }
    return true;
  }
  // cryptofeed: "<ts>: {json}" received frames; "<url> -> <ts>: {json}" REST responses in the http file.
  std::vector<std::pair<double, Frame>> timed;
  auto add = [&](const std::string& line, bool rest) {
    const std::size_t colon = line.find(": {");
    if (colon == std::string::npos || line.find(" <- ") != std::string::npos) return;  // not a sent frame
    std::size_t ts_start = rest ? line.find(" -> ") : 0;
    if (rest && ts_start == std::string::npos) return;
    if (rest) ts_start += 4;
    Frame frame;
    frame.text = line.substr(colon + 2);
    const double seconds = std::strtod(line.c_str() + ts_start, nullptr);
    frame.ts = static_cast<std::int64_t>(seconds * 1e9);
    if (rest) {
      frame.snapshot = true;
      const std::size_t symbol = line.find("symbol=");
      if (symbol == std::string::npos) return;
      const std::string name = line.substr(symbol + 7, line.find('&', symbol) - symbol - 7);
      bool found = false;
      for (std::uint32_t id = 0; id < recording.instruments.size(); ++id) {
        if (recording.instruments[id].symbol == name) {
          frame.snapshot_id = id;
          found = true;
        }
      }
      if (!found) return;
    }
    timed.emplace_back(seconds, std::move(frame));
  };
  for (const std::string& line : lines) add(line, false);
  std::vector<std::string> rest_lines;
  std::string http = dir + recording.path;
  http.replace(http.find(".ws.1.0"), 7, ".http.0.0");
  if (!read_lines(http, rest_lines)) return !missing(http);
  for (const std::string& line : rest_lines) add(line, true);
  std::stable_sort(timed.begin(), timed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [seconds, frame] : timed) frames.push_back(std::move(frame));
  return true;
}

void feed_both(Twin& twin, const Frame& frame, std::string_view right_text) {
  if (frame.snapshot) {
    twin.snapshot(frame.snapshot_id, frame.text, frame.ts);
  } else {
    twin.frame(frame.text, right_text, frame.ts);
  }
}

bool is_market_data(const std::string& text) {
  return text.find("depthUpdate") != std::string::npos || text.find("bookTicker") != std::string::npos ||
         text.find("\"e\":\"trade\"") != std::string::npos;
}

// 1. Every recorded frame: fast path on vs off. Also: the fast path did read nearly all of them.
void test_recordings_fast_equals_general() {
  for (const Recording& recording : recordings()) {
    std::vector<Frame> frames;
    if (!load(recording, frames) || frames.empty()) continue;
    Twin twin(recording.instruments, recording.market);
    std::uint64_t market_data = 0;
    for (const Frame& frame : frames) {
      feed_both(twin, frame, frame.text);
      if (!frame.snapshot && is_market_data(frame.text)) ++market_data;
    }
    twin.check_end_state();
    const auto& fast = twin.left->counters();
    CHECK_EQ(twin.right->counters().fast_path_frames, 0U);
    CHECK_EQ(fast.bad_frames, 0U);
    CHECK(fast.snapshots >= 1);
    // Every depth, bookTicker and trade frame Binance wrote took the fast path (aggTrade and the rest
    // go to the scanner by design).
    const std::uint64_t expected = market_data;
    std::printf("%s: %zu frames, %llu by the fast path (%llu depth/bookTicker/trade)\n", recording.path, frames.size(),
                static_cast<unsigned long long>(fast.fast_path_frames), static_cast<unsigned long long>(market_data));
    CHECK_EQ(fast.fast_path_frames, expected);
    CHECK(fast.fast_path_frames > 0);
  }
}

// 2. The same frames with their keys shuffled (and spaced): only the scanner reads those, and it must
// end where the fast path ends on Binance's spelling. Sampled: every frame for the smaller recordings,
// a prefix of the large ones.
void test_reordered_keys_fall_back_to_same_result() {
  std::mt19937_64 rng(7);
  for (const Recording& recording : recordings()) {
    std::vector<Frame> frames;
    if (!load(recording, frames) || frames.empty()) continue;
    if (frames.size() > 20'000) frames.resize(20'000);
    for (const bool spaced : {false, true}) {
      Twin twin(recording.instruments, recording.market, true, true);  // both feeds may use the fast path
      std::uint64_t respelled = 0;
      for (const Frame& frame : frames) {
        if (frame.snapshot) {
          twin.snapshot(frame.snapshot_id, frame.text, frame.ts);
          continue;
        }
        const std::string other = respell(frame.text, rng, spaced);
        respelled += other != frame.text;
        const std::uint64_t before = twin.right->counters().fast_path_frames;
        const FrameStatus a = twin.left->on_frame(frame.text, frame.ts);
        const FrameStatus b = twin.right->on_frame(other, frame.ts);
        // Events, status and book effects must match; error texts name the same field either way.
        const bool ok = a == b && same_events(twin.left->last_events(), twin.right->last_events()) &&
                        twin.left->last_error() == twin.right->last_error();
        if (!ok && twin.mismatches++ < 5) {
          std::fprintf(stderr, "respelled frame differs: %s\n  %s\n", frame.text.substr(0, 200).c_str(),
                       other.substr(0, 200).c_str());
        }
        CHECK(ok);
        if (other != frame.text) CHECK_EQ(twin.right->counters().fast_path_frames, before);  // scanner read it
      }
      twin.check_end_state();
      CHECK(respelled > frames.size() / 2);
    }
  }
}

// 3. Mutations near Binance's spelling (where the fast path must give up, or read exactly what the
// scanner reads): fast on vs off, frame by frame.
void test_mutations_agree() {
  std::mt19937_64 rng(11);
  const char alphabet[] = "0123456789.-\"[]{},:eE \\x";
  for (const Recording& recording : recordings()) {
    std::vector<Frame> frames;
    if (!load(recording, frames) || frames.empty()) continue;
    Twin twin(recording.instruments, recording.market);
    std::size_t n = 0;
    for (const Frame& frame : frames) {
      if (frame.snapshot) {
        twin.snapshot(frame.snapshot_id, frame.text, frame.ts);
        continue;
      }
      twin.frame(frame.text, frame.text, frame.ts);
      if (n++ % 7 != 0 || frame.text.size() > 4000) continue;
      for (int k = 0; k < 4; ++k) {
        std::string mutated = frame.text;
        const std::size_t at = rng() % mutated.size();
        switch (rng() % 4) {
          case 0: mutated[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
          case 1: mutated.erase(at, 1 + rng() % 3); break;
          case 2: mutated.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
          default: mutated.resize(at); break;
        }
        twin.frame(mutated, mutated, frame.ts);
      }
    }
    twin.check_end_state();
  }
}

// 4. Hand-written frames at the edges of the fast path's shapes.
void test_edge_frames() {
  Twin twin({make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.01", "0.001"),
             make("LONGSYMBOLNAME1234", "0.01", "0.001")},
            BinanceMarket::kUsdm);
  twin.snapshot(0, R"({"lastUpdateId":100,"E":1,"T":1,"bids":[["10.0","1.000"]],"asks":[["11.0","1.000"]]})", 1);
  twin.snapshot(2, R"({"lastUpdateId":100,"E":1,"T":1,"bids":[["10.00","1.000"]],"asks":[]})", 1);
  const char* frames[] = {
      R"({"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":90,"u":101,"pu":89,"b":[["10.1","2.000"]],"a":[]}})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":102,"u":102,"pu":101,"b":[],"a":[["11.0","0"]]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":103,"u":103,"pu":102,"b":[["10.15","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":103,"u":104,"pu":102,"b":[["10.10","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"btcusdt","U":105,"u":105,"pu":104,"b":[["9.9","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"LONGSYMBOLNAME1234","U":101,"u":101,"pu":100,"b":[["9.9","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":99999999999999999999,"T":1,"s":"BTCUSDT","U":106,"u":106,"pu":105,"b":[],"a":[]})",
      R"({"e":"depthUpdate","E":9223372036854775807,"T":1,"s":"BTCUSDT","U":107,"u":107,"pu":106,"b":[],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1.5,"s":"BTCUSDT","U":108,"u":108,"pu":107,"b":[],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":109,"u":108,"pu":108,"b":[],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":109,"u":109,"pu":108,"b":[["1e3","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":110,"u":110,"pu":109,"b":[["-1.0","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":111,"u":111,"pu":110,"b":[["1.","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":112,"u":112,"pu":111,"b":[["NaN","1"]],"a":[]})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":113,"u":113,"pu":112,"b":[["10.0","1"]],"a":[]} )",
      R"({"e":"bookTicker","u":5,"s":"BTCUSDT","b":"10.0","B":"1.000","a":"11.0","A":"2","T":1,"E":2})",
      R"({"e":"bookTicker","u":5,"s":"BTCUSDT","b":"10.05","B":"1.000","a":"11.0","A":"2","T":1,"E":2})",
      R"({"e":"bookTicker","u":5,"s":"ETHUSDT","b":"10.0","B":"1.0001","a":"11.0","A":"2","T":1,"E":2})",
      R"({"u":5,"s":"ETHUSDT","b":"10.0","B":"1.000","a":"11.0","A":"2"})",
      R"({"u":5,"s":"ETHUSDT","b":"10.0","B":"1.000","a":"11.0"})",
      R"({"u":5,"s":"XRPUSDT","b":"10.0","B":"1.000","a":"11.0","A":"2"})",
      R"({"e":"bookTicker","u":5,"s":"BTCUSDT","b":"10.0","B":"1.000","a":"11.0","A":"2","T":1,"E":99999999999999999})",
      R"({"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":7,"p":"10.0","q":"0.001","X":"MARKET","m":false})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"10.0","q":"0.001","T":1,"m":true,"M":true})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"10.0","q":"0.001","T":1,"m":1,"M":true})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"10.01","q":"0.001","T":1,"m":true})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"10.0","q":"0.001","X":"MAR\"KET","m":true})",
      R"({"e":"aggTrade","E":1,"a":5,"s":"BTCUSDT","p":"10.0","q":"0.001","f":1,"l":2,"T":1,"m":true})",
      R"({"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5,"s":"BTCUSDT","b":"10.0","B":"1","a":"11.0","A":"2","T":1,"E":2},"x":1})",
      R"({"stream":"btc\"usdt","data":{"e":"bookTicker","u":5,"s":"BTCUSDT","b":"10.0","B":"1","a":"11.0","A":"2","T":1,"E":2}})",
      R"({"stream":"x","data":{"e":"kline","E":1,"s":"BTCUSDT"}})",
      R"({"result":null,"id":1})",
      R"({"e":"depthUpdate","E":1,"T":1,"s":"ETHUSDT","U":1,"u":2,"pu":0,"b":[["1.00","1.000"],["2.00","2.000"]],"a":[["3.00","0.000"]]})",
  };
  for (const char* frame : frames) twin.frame(frame, frame, 5);
  twin.check_end_state();
  CHECK(twin.left->counters().fast_path_frames > 10);
}

// 5. Decimal spellings around what the fast path's quick reader takes (short and long ones, points,
// leading and trailing zeros, digits finer than the step, stray bytes), in depth levels (inside a
// frame and at its end) and in bookTickers, for steps that are powers of ten, not powers of ten, and
// coarser than 1: the fast path and the scanner must give the same events, statuses and errors.
// Mostly a decimal `step` can hold (at most its decimals, then maybe zeros); otherwise any length.
std::string random_decimal(std::mt19937_64& rng, common::DecimalStep step) {
  std::string text;
  const auto digits = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) text += static_cast<char>('0' + rng() % 10);
  };
  const std::size_t shape = rng() % 16;
  const bool fits = shape >= 4;
  digits(shape == 0 ? 0 : 1 + rng() % (shape == 1 ? 17 : 7));
  const auto decimals = static_cast<std::size_t>(std::max(step.decimals, 0));
  if (fits ? decimals > 0 && rng() % 4 != 0 : rng() % 4 != 0) {
    text += '.';
    digits(fits ? 1 + rng() % decimals : rng() % (shape == 2 ? 16 : 6));
  }
  if (rng() % 3 == 0) text.append(text.find('.') == std::string::npos ? 0 : rng() % 12, '0');
  if (rng() % 32 == 0) {
    const char junk[] = ".-e+x \"0";
    text.insert(rng() % (text.size() + 1), 1, junk[rng() % (sizeof junk - 1)]);
  }
  return text;
}

void test_decimal_shapes() {
  const std::vector<common::Instrument> instruments = {make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.05", "0.001"),
                                                       make("PEPEUSDT", "0.0000001", "1"), make("BNBUSDT", "0.01", "10")};
  Twin twin(instruments, BinanceMarket::kUsdm);
  std::mt19937_64 rng(21);
  std::uint64_t u = 1000;
  for (int n = 0; n < 30'000; ++n) {
    const auto id = static_cast<std::uint32_t>(rng() % instruments.size());
    const std::string& symbol = instruments[id].symbol;
    const common::DecimalStep tick = instruments[id].tick;
    const common::DecimalStep lot = instruments[id].lot;
    if (n % 2 == 0) {
      // A fresh snapshot, then a diff that straddles it: every diff is applied when it is readable.
      u += 10;
      twin.snapshot(id, "{\"lastUpdateId\":" + std::to_string(u) + R"(,"E":1,"T":1,"bids":[],"asks":[]})", 1);
      std::string frame = R"({"e":"depthUpdate","E":1723161256000,"T":1723161256000,"s":")" + symbol +
                          "\",\"U\":" + std::to_string(u) + ",\"u\":" + std::to_string(u + 1) +
                          ",\"pu\":" + std::to_string(u - 1) + ",\"b\":[";
      for (const char* side : {"", "],\"a\":["}) {
        frame += side;
        const std::size_t levels = rng() % 4;
        for (std::size_t i = 0; i < levels; ++i) {
          frame += (i == 0 ? "[\"" : ",[\"") + random_decimal(rng, tick) + "\",\"" + random_decimal(rng, lot) + "\"]";
        }
      }
      frame += "]}";
      if (rng() % 2 == 0) frame = R"({"stream":"x@depth","data":)" + frame + "}";
      twin.frame(frame, frame, 2);
    } else {
      std::string frame = R"({"e":"bookTicker","u":)" + std::to_string(++u) + R"(,"s":")" + symbol + R"(","b":")" +
                          random_decimal(rng, tick) + R"(","B":")" + random_decimal(rng, lot) + R"(","a":")" +
                          random_decimal(rng, tick) + R"(","A":")" + random_decimal(rng, lot) + "\"";
      frame += rng() % 2 == 0 ? "}" : R"(,"T":1723161256000,"E":1723161256001})";
      twin.frame(frame, frame, 3);
    }
  }
  twin.check_end_state();
  // The fast path took many frames (the rest went to the scanner, which must have agreed).
  const auto& counters = twin.left->counters();
  std::printf("decimal shapes: %llu frames, %llu by the fast path, %llu bad\n",
              static_cast<unsigned long long>(counters.frames),
              static_cast<unsigned long long>(counters.fast_path_frames),
              static_cast<unsigned long long>(counters.bad_frames));
  CHECK(counters.fast_path_frames > counters.frames / 10);
  CHECK(counters.bad_frames > 0);
}

// 6. The fast paths' prepared steps (make_wire_step: trailing zeros of the units moved into the
// decimals, exact division as a multiply and a rotate) against plain division, for units of every
// kind (1, odd, even, powers of two and ten, large) and values around multiples.
void test_wire_steps() {
  std::mt19937_64 rng(5);
  std::vector<std::int64_t> all_units = {1, 2, 3, 5, 7, 8, 10, 16, 25, 50, 64, 100, 125, 1000, 1024, 999'999'937,
                                         (std::int64_t{1} << 40), 3'000'000'000'000LL};
  for (int i = 0; i < 40; ++i) all_units.push_back(1 + static_cast<std::int64_t>(rng() % 100'000));
  for (const std::int64_t units : all_units) {
    for (std::int32_t decimals = 0; decimals <= 4; ++decimals) {
      const common::DecimalStep step{units, decimals};
      const venue::WireStep wire = venue::make_wire_step(step);
      CHECK(wire.decimals >= 0 && wire.decimals <= decimals);
      // The same step: units x 10^-decimals == wire units x 10^-wire.decimals.
      const std::int64_t scale = venue::detail::kPow10[decimals - wire.decimals];
      for (int k = 0; k < 200; ++k) {
        // A value in units of 10^-decimals near a multiple of the step, or anywhere below 10^18.
        std::uint64_t value = k % 2 == 0 ? (rng() % 1'000'000) * static_cast<std::uint64_t>(units) + rng() % 3
                                         : rng() % 1'000'000'000'000'000'000ULL;
        if (value % static_cast<std::uint64_t>(scale) != 0) value -= value % static_cast<std::uint64_t>(scale);
        std::int64_t out = -1;
        const bool whole = venue::wire_exact_steps(value / static_cast<std::uint64_t>(scale), wire, out);
        const bool expected = value % static_cast<std::uint64_t>(units) == 0;
        CHECK(whole == expected);
        if (whole && expected) CHECK(out == static_cast<std::int64_t>(value / static_cast<std::uint64_t>(units)));
      }
    }
  }
}

// 7. Depth levels laid out alike, as Binance writes them (fixed decimals), which the fast path reads
// through the symbol's learned level layout: random digits in one layout per run of frames (integer
// parts of 1 to 8 digits, with and without a point, fraction digits up to and past the step, levels
// of 16 to 24 bytes and longer), with now and then one level changed (a digit turned into another
// byte, a finer digit that is not a zero, a digit more or fewer, a point moved), and levels up to
// the frame's last byte. Both readers must give the same events, statuses and errors.
// Integer fields (E, T, U, u, pu; bookTicker u; trade t) of 1 to 22 digits, with leading zeros and
// now and then a fraction, exponent or sign after them, in every position the word-at-a-time integer
// reader sees (a number ending inside its first or second 8-byte word, or exactly at a word's end):
// the fast path and the scanner must agree, and the fast path must read every frame whose integers
// have at most 19 digits and nothing after them.
void test_integer_fields() {
  const std::vector<common::Instrument> instruments = {make("BTCUSDT", "0.10", "0.001")};
  Twin twin(instruments, BinanceMarket::kUsdm);
  twin.snapshot(0, R"({"lastUpdateId":100,"E":1,"T":1,"bids":[],"asks":[]})", 1);
  std::mt19937_64 rng(41);
  const char* const tails[] = {".5", "e3", "-1", "x", ".", "\"9\""};
  int plain = 0;
  for (int n = 0; n < 6'000; ++n) {
    bool fast = true;
    const auto number = [&]() {
      const std::size_t digits = 1 + rng() % 22;
      std::string text;
      for (std::size_t d = 0; d < digits; ++d) {
        text += static_cast<char>('0' + (d == 0 && rng() % 4 != 0 ? 1 + rng() % 9 : rng() % 10));
      }
      if (digits > 19) fast = false;
      if (rng() % 64 == 0) {
        text += tails[rng() % std::size(tails)];
        fast = false;
      }
      return text;
    };
    std::string frame;
    switch (n % 3) {
      case 0:
        frame = R"({"e":"depthUpdate","E":)" + number() + R"(,"T":)" + number() + R"(,"s":"BTCUSDT","U":)" + number() +
                R"(,"u":)" + number() + R"(,"pu":)" + number() + R"(,"b":[["10.0","1.000"]],"a":[]})";
        break;
      case 1:
        frame = R"({"e":"bookTicker","u":)" + number() +
                R"(,"s":"BTCUSDT","b":"10.0","B":"1.000","a":"11.0","A":"2.000","T":)" + number() + R"(,"E":)" +
                number() + "}";
        break;
      default:
        frame = R"({"e":"trade","E":)" + number() + R"(,"T":)" + number() + R"(,"s":"BTCUSDT","t":)" + number() +
                R"(,"p":"10.0","q":"0.001","X":"MARKET","m":false})";
        break;
    }
    const std::uint64_t before = twin.left->counters().fast_path_frames;
    twin.frame(frame, frame, n);
    if (fast) {
      ++plain;
      CHECK_EQ(twin.left->counters().fast_path_frames, before + 1);
    }
  }
  CHECK(plain > 3'000);
  twin.check_end_state();
}

void test_shaped_levels() {
  const std::vector<common::Instrument> instruments = {make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.05", "0.001"),
                                                       make("PEPEUSDT", "0.0000001", "1"), make("BNBUSDT", "0.01", "10"),
                                                       make("XAUUSDT", "10", "0.5")};
  Twin twin(instruments, BinanceMarket::kUsdm);
  std::mt19937_64 rng(33);
  std::uint64_t u = 5000;
  struct Layout {
    std::size_t int_digits[2];
    std::size_t fraction_digits[2];  // 0: no point
  };
  Layout layout{};
  const char stray[] = "0123456789.-\"e, x";
  for (int n = 0; n < 20'000; ++n) {
    if (n % 50 == 0) {
      for (int f = 0; f < 2; ++f) {
        layout.int_digits[f] = 1 + rng() % 8;
        layout.fraction_digits[f] = rng() % 4 == 0 ? 0 : 1 + rng() % 8;
      }
    }
    const auto id = static_cast<std::uint32_t>(rng() % instruments.size());
    u += 10;
    twin.snapshot(id, "{\"lastUpdateId\":" + std::to_string(u) + R"(,"E":1,"T":1,"bids":[],"asks":[]})", 1);
    std::string frame = R"({"e":"depthUpdate","E":1723161256000,"T":1723161256000,"s":")" + instruments[id].symbol +
                        "\",\"U\":" + std::to_string(u) + ",\"u\":" + std::to_string(u + 1) +
                        ",\"pu\":" + std::to_string(u - 1) + ",\"b\":[";
    for (const char* side : {"", "],\"a\":["}) {
      frame += side;
      const std::size_t levels = 1 + rng() % 12;
      for (std::size_t i = 0; i < levels; ++i) {
        std::string level = "[\"";
        const bool any_value = rng() % 32 == 0;  // else one the step holds
        for (int f = 0; f < 2; ++f) {
          const common::DecimalStep step = f == 0 ? instruments[id].tick : instruments[id].lot;
          std::string digits;
          for (std::size_t d = 0; d < layout.int_digits[f] + layout.fraction_digits[f]; ++d) {
            digits += static_cast<char>('0' + rng() % 10);
          }
          if (!any_value) {
            // Digits finer than the step are zeros; the step's last digit is a multiple of its units
            // (steps here: units 1, 5 or 10).
            const std::size_t last = layout.int_digits[f] + static_cast<std::size_t>(step.decimals);  // one past it
            for (std::size_t d = last; d < digits.size(); ++d) digits[d] = '0';
            if (last >= 1 && last <= digits.size() && step.units != 1) {
              digits[last - 1] = step.units == 5 && rng() % 2 == 0 ? '5' : '0';
            }
          }
          level += digits.substr(0, layout.int_digits[f]);
          if (layout.fraction_digits[f] > 0) level += '.' + digits.substr(layout.int_digits[f]);
          level += f == 0 ? "\",\"" : "\"]";
        }
        if (rng() % 64 == 0) {
          const std::size_t at = rng() % level.size();
          switch (rng() % 3) {
            case 0: level[at] = stray[rng() % (sizeof stray - 1)]; break;
            case 1: level.insert(at, 1, static_cast<char>('0' + rng() % 10)); break;
            default: level.erase(at, 1); break;
          }
        }
        frame += (i == 0 ? "" : ",") + level;
      }
    }
    frame += "]}";
    if (rng() % 2 == 0) frame = R"({"stream":"x@depth","data":)" + frame + "}";
    twin.frame(frame, frame, 2);
  }
  twin.check_end_state();
  const auto& counters = twin.left->counters();
  std::printf("shaped levels: %llu frames, %llu by the fast path, %llu bad\n",
              static_cast<unsigned long long>(counters.frames),
              static_cast<unsigned long long>(counters.fast_path_frames),
              static_cast<unsigned long long>(counters.bad_frames));
  CHECK(counters.fast_path_frames > counters.frames / 4);
  CHECK(counters.bad_frames > 0);
}

// bookTickers through the symbol's learned bookTicker layout (BboShape): random digits in one layout
// per run of frames (each of b, B, a, A with 1 to 8 integer digits, with and without a point, fraction
// digits up to and past the step; regions shorter and longer than the cached sizes), symbols mixed
// frame by frame (each keeps its own layout), with and without "e", "T"/"E" and the stream wrapper,
// and now and then one frame changed inside the decimals (a digit turned into another byte, a finer
// digit that is not a zero, a byte more or fewer). Both readers must give the same events, statuses
// and errors.
void test_shaped_book_tickers() {
  const std::vector<common::Instrument> instruments = {make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.05", "0.001"),
                                                       make("PEPEUSDT", "0.0000001", "1"), make("BNBUSDT", "0.01", "10"),
                                                       make("XAUUSDT", "10", "0.5")};
  Twin twin(instruments, BinanceMarket::kUsdm);
  std::mt19937_64 rng(44);
  std::uint64_t u = 9000;
  std::size_t int_digits[4] = {};
  std::size_t fraction_digits[4] = {};  // 0: no point
  const char stray[] = "0123456789.-\"e, x";
  const char* keys[4] = {"b", "B", "a", "A"};
  for (int n = 0; n < 20'000; ++n) {
    if (n % 40 == 0) {
      for (int f = 0; f < 4; ++f) {
        int_digits[f] = 1 + rng() % (rng() % 2 == 0 ? 3 : 8);
        fraction_digits[f] = rng() % 4 == 0 ? 0 : 1 + rng() % (rng() % 2 == 0 ? 4 : 8);
      }
    }
    const auto id = static_cast<std::uint32_t>(rng() % instruments.size());
    u += 3;
    std::string body;
    for (int f = 0; f < 4; ++f) {
      const common::DecimalStep step = f % 2 == 0 ? instruments[id].tick : instruments[id].lot;
      std::string digits;
      for (std::size_t d = 0; d < int_digits[f] + fraction_digits[f]; ++d) digits += static_cast<char>('0' + rng() % 10);
      if (rng() % 32 != 0) {  // else any value: maybe finer than the step
        const std::size_t last = int_digits[f] + static_cast<std::size_t>(step.decimals);  // one past the step's digit
        for (std::size_t d = last; d < digits.size(); ++d) digits[d] = '0';
        if (last >= 1 && last <= digits.size() && step.units != 1) {
          digits[last - 1] = step.units == 5 && rng() % 2 == 0 ? '5' : '0';
        }
      }
      std::string text = digits.substr(0, int_digits[f]);
      if (fraction_digits[f] > 0) text += '.' + digits.substr(int_digits[f]);
      body += std::string(",\"") + keys[f] + "\":\"" + text + "\"";
    }
    if (rng() % 48 == 0) {
      const std::size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[at] = stray[rng() % (sizeof stray - 1)]; break;
        case 1: body.insert(at, 1, static_cast<char>('0' + rng() % 10)); break;
        default: body.erase(at, 1); break;
      }
    }
    std::string frame = std::string(rng() % 4 == 0 ? "{" : R"({"e":"bookTicker",)") + "\"u\":" + std::to_string(u) +
                        ",\"s\":\"" + instruments[id].symbol + "\"" + body +
                        (rng() % 3 == 0 ? "}" : R"(,"T":1723161256313,"E":1723161256314})");
    if (rng() % 2 == 0) frame = R"({"stream":"x@bookTicker","data":)" + frame + "}";
    twin.frame(frame, frame, 3);
  }
  twin.check_end_state();
  const auto& counters = twin.left->counters();
  std::printf("shaped bookTickers: %llu frames, %llu by the fast path, %llu bad\n",
              static_cast<unsigned long long>(counters.frames),
              static_cast<unsigned long long>(counters.fast_path_frames),
              static_cast<unsigned long long>(counters.bad_frames));
  CHECK(counters.fast_path_frames > counters.frames / 2);
  CHECK(counters.bad_frames > 0);
}

// Frames in a row whose head or tail had one layout (digits as '#'): whether the fast path must read the
// next frame by its learned layout. `needed`: frames of one layout that must go before.
struct LayoutStreak {
  explicit LayoutStreak(int needed_frames) : needed(needed_frames) {}
  int needed;
  int streak = 0;
  std::string previous;
  struct Seen {
    bool known;  ///< A layout is learned: the frame is read by it exactly when `same`.
    bool same;   ///< The frame has the previous frames' layout.
  };
  // `counts` false: the frame cannot extend a streak (another symbol's frames interleave).
  Seen see(const std::string& text, bool counts = true) {
    std::string layout = text;
    for (char& c : layout) c = std::isdigit(static_cast<unsigned char>(c)) != 0 ? '#' : c;
    const bool same = layout == previous;
    const bool known = counts && streak >= needed;
    streak = same && counts ? streak + 1 : 1;
    previous = std::move(layout);
    return {known, same};
  }
};

// Depth frames through the symbol's learned head layout (HeadShape): runs of frames sharing a head
// layout (combined or raw stream, with and without "T", USD-M with "pu" and spot without, update
// ids of 1 to 19 digits), symbols alternating in some runs, bookTickers of the same symbol in
// between (with head layouts of their own, changed now and then too), and now and then one frame
// changed in its head: an integer a digit longer or shorter or
// one of its digits made another digit (still the layout: read by it, with the new value) or a
// non-digit, a key or name byte changed, the symbol in lower case. Both readers must give the same
// events, statuses and errors; once a layout is learned, frames of it must be read by it (accepted
// side) and frames of any other layout never (refused side).
void test_shaped_heads() {
  for (const BinanceMarket market : {BinanceMarket::kUsdm, BinanceMarket::kSpot}) {
    const bool usdm = market == BinanceMarket::kUsdm;
    const std::vector<common::Instrument> instruments = {make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.01", "0.001")};
    Twin twin(instruments, market);
    std::mt19937_64 rng(usdm ? 57 : 58);
    std::uint64_t last_u[2] = {1'000, 1'000};
    for (std::uint32_t id = 0; id < 2; ++id) {
      twin.snapshot(id, R"({"lastUpdateId":1000,"E":1,"T":1,"bids":[],"asks":[]})", 1);
    }
    bool combined = false;
    bool with_t = true;
    bool alternate = false;
    std::uint64_t id_base = 1'000;
    int by_layout = 0;
    int expected_by_layout = 0;
    int refused_by_layout = 0;
    LayoutStreak heads{3};    // depth frames in a row with the same head layout, one symbol
    LayoutStreak tickers{3};  // the same for the bookTickers between them
    int tickers_by_layout = 0;
    int tickers_refused = 0;
    for (int n = 0; n < 12'000; ++n) {
      if (n % 40 == 0) {  // a new head layout
        combined = rng() % 2 == 0;
        with_t = rng() % 3 != 0;
        alternate = rng() % 4 == 0;
        std::uint64_t base = 1;
        for (std::uint64_t d = 1 + rng() % 18; d > 1; --d) base *= 10;
        id_base = base + rng() % base;  // a few thousand frames on, still the same number of digits
        for (auto& u : last_u) u = id_base;
        for (std::uint32_t id = 0; id < 2; ++id) {
          twin.snapshot(id, "{\"lastUpdateId\":" + std::to_string(id_base) + R"(,"E":1,"T":1,"bids":[],"asks":[]})", 1);
        }
        heads.streak = 0;
      }
      const std::uint32_t id = alternate ? static_cast<std::uint32_t>(n % 2) : 0;
      std::string symbol = instruments[id].symbol;
      std::string lower;
      for (const char c : symbol) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::uint64_t first = last_u[id] + 1;
      const std::uint64_t last = first + rng() % 3;
      const std::string time = std::to_string(std::uint64_t{1723161256000} + static_cast<std::uint64_t>(n));
      std::string first_text = std::to_string(first);
      std::string head = std::string(R"({"e":"depthUpdate","E":)") + time + (with_t ? ",\"T\":" + time : "") +
                         ",\"s\":\"" + symbol + "\",\"U\":" + first_text + ",\"u\":" + std::to_string(last) +
                         (usdm ? ",\"pu\":" + std::to_string(last_u[id]) : "") + ",\"b\":";
      if (combined) head = "{\"stream\":\"" + lower + "@depth@0ms\",\"data\":" + head;
      // Changes inside the head. 0: none; 1: a digit of E for another digit (still the layout);
      // 2: U one digit longer; 3: U one digit shorter; 4: a digit of E made 'x'; 5: a key byte;
      // 6: the symbol in lower case; 7: a stream name byte (combined only).
      int change = rng() % 12 == 0 ? 1 + static_cast<int>(rng() % 7) : 0;
      if (change == 7 && !combined) change = 0;
      const std::size_t e_at = head.find("\"E\":") + 4;
      const std::size_t u_at = head.find("\"U\":") + 4;
      switch (change) {
        case 1: head[e_at + 5] = head[e_at + 5] == '9' ? '0' : static_cast<char>(head[e_at + 5] + 1); break;
        case 2: head.insert(u_at, 1, '1'); break;
        case 3:
          if (first_text.size() > 1) {
            head.erase(u_at, 1);
          } else {
            change = 0;
          }
          break;
        case 4: head[e_at + 3] = 'x'; break;
        case 5: head[head.find("\"U\":") + 1] = 'V'; break;
        case 6: head.replace(head.find(symbol), symbol.size(), lower); break;
        case 7: head[head.find("@depth") + 1] = 'D'; break;
        default: break;
      }
      const std::string frame = head + R"([["60000.10","1.000"],["59999.90","0.000"]],"a":[["60000.20","2.500"]]})" +
                                (combined ? "}" : "");
      // Once three frames of one head layout went before it (a layout is relearned after two misses in
      // a row, and the first of them may have been tried against another symbol's layout), a frame is
      // read by the layout exactly when its head has that layout too.
      const auto [known, same_layout] = heads.see(head, !alternate);
      const std::uint64_t before = twin.left->head_shape_frames();
      twin.frame(frame, frame, n);
      const bool read_by_layout = twin.left->head_shape_frames() == before + 1;
      if (known && same_layout) {
        ++expected_by_layout;
        CHECK(read_by_layout);
      }
      if (known && !same_layout) {
        CHECK(!read_by_layout);
        ++refused_by_layout;
      }
      by_layout += read_by_layout ? 1 : 0;
      if (change != 4 && change != 5) last_u[id] = last;
      if (rng() % 3 == 0) {  // a bookTicker of the same symbol, with a head layout of its own (USD-M's "e")
        std::string ticker = R"({"e":"bookTicker","u":)" + std::to_string(last) + R"(,"s":")" + symbol +
                             R"(","b":"60000.10","B":"1.000","a":"60000.20","A":"2.500","T":1,"E":1})";
        switch (rng() % 16) {  // now and then a changed head: u a digit longer, a key byte
          case 0: ticker.insert(ticker.find("\"u\":") + 4, 1, '7'); break;
          case 1: ticker[ticker.find("\"u\":") + 1] = 'v'; break;
          default: break;
        }
        if (combined) ticker = "{\"stream\":\"" + lower + "@bookTicker\",\"data\":" + ticker + "}";
        const auto [ticker_known, same_ticker_layout] = tickers.see(ticker.substr(0, ticker.find(",\"b\":")), !alternate);
        const std::uint64_t ticker_before = twin.left->head_shape_frames();
        twin.frame(ticker, ticker, n);
        const bool ticker_by_layout = twin.left->head_shape_frames() == ticker_before + 1;
        if (ticker_known && same_ticker_layout) {
          CHECK(ticker_by_layout);
          ++tickers_by_layout;
        }
        if (ticker_known && !same_ticker_layout) {
          CHECK(!ticker_by_layout);
          ++tickers_refused;
        }
      }
    }
    twin.check_end_state();
    CHECK_EQ(twin.right->head_shape_frames(), 0U);
    std::printf("shaped heads (%s): %llu frames, %d depth heads by the layout (%d expected at least), %d changed "
                "heads refused by it, %llu bad\n",
                usdm ? "usdm" : "spot", static_cast<unsigned long long>(twin.left->counters().frames), by_layout,
                expected_by_layout, refused_by_layout, static_cast<unsigned long long>(twin.left->counters().bad_frames));
    std::printf("shaped heads (%s): %d bookTickers by the layout, %d changed ones refused by it\n",
                usdm ? "usdm" : "spot", tickers_by_layout, tickers_refused);
    CHECK(expected_by_layout > 5'000);
    CHECK(refused_by_layout > 100);
    CHECK(tickers_by_layout > 1'000);
    CHECK(tickers_refused > 50);
  }
}

// bookTicker tails (`,"T":n,"E":n}`) through the symbol's learned tail layout (TailShape): runs of
// 40 USD-M bookTickers sharing a tail layout (T and E of 1 to 19 digits, some with leading zeros,
// E now and then beyond the nanosecond range; combined or raw stream; the head with or without
// "e"; one of two symbols per run), the decimals in one of two layouts (so that the tail follows
// both the shaped and the byte-read decimals), and now and then one frame changed in its tail: a
// digit of T or E for another digit (still the layout: read by it, with the new value), T or E a
// digit longer or shorter, a digit made 'x', a key byte changed, no tail at all, a byte after the
// message's `}`, the combined stream's `}` missing, T of 20 digits. Both readers must give the same
// events, statuses and errors; once two frames of a learnable layout went before it, frames of that
// layout must be read by it (accepted side) and frames of any other layout never (refused side).
void test_shaped_tails() {
  const std::vector<common::Instrument> instruments = {make("BTCUSDT", "0.10", "0.001"), make("ETHUSDT", "0.01", "0.001")};
  Twin twin(instruments, BinanceMarket::kUsdm);
  std::mt19937_64 rng(61);
  const auto digits = [&](std::size_t count, bool leading_zero) {
    std::string text;
    for (std::size_t d = 0; d < count; ++d) {
      text += static_cast<char>('0' + (d == 0 && !leading_zero ? 1 + rng() % 9 : rng() % 10));
    }
    return text;
  };
  std::size_t t_digits = 13;
  std::size_t e_digits = 13;
  bool combined = false;
  std::uint32_t id = 0;
  LayoutStreak tails[2] = {LayoutStreak(2), LayoutStreak(2)};  // frames of each symbol in a row whose tail had one layout
  int by_layout = 0;
  int expected_by_layout = 0;
  int refused_by_layout = 0;
  std::uint64_t u = 1'000;
  for (int n = 0; n < 16'000; ++n) {
    if (n % 40 == 0) {  // a new run
      const auto count = [&]() -> std::size_t { return rng() % 2 == 0 ? 13 : 1 + rng() % 19; };
      t_digits = count();
      e_digits = count();
      combined = rng() % 2 == 0;
      id = static_cast<std::uint32_t>(rng() % 2);
    }
    const bool leading_zero = rng() % 16 == 0;
    std::string t_text = digits(t_digits, leading_zero);
    std::string e_text = digits(e_digits, leading_zero);
    // Changes inside the tail. 0: none; 1: a digit of E for another digit (still the layout); 2: a
    // digit of T for another digit (still the layout); 3: E a digit longer; 4: T a digit shorter; 5:
    // a digit of E made 'x'; 6: a key byte; 7: no tail; 8: a byte after the message's `}`; 9: the
    // combined stream's `}` missing; 10: T of 20 digits.
    const int change = rng() % 10 == 0 ? 1 + static_cast<int>(rng() % 10) : 0;
    switch (change) {
      case 1: e_text.back() = e_text.back() == '9' ? '0' : static_cast<char>(e_text.back() + 1); break;
      case 2: t_text.front() = t_text.front() == '9' ? '1' : static_cast<char>(t_text.front() + 1); break;
      case 3: e_text += '7'; break;
      case 4:
        if (t_text.size() > 1) t_text.pop_back();
        break;
      case 5: e_text[e_text.size() / 2] = 'x'; break;
      case 10: t_text = digits(20, false); break;
      default: break;
    }
    std::string tail = ",\"T\":" + t_text + ",\"E\":" + e_text + "}";
    if (change == 6) tail[2] = 't';
    if (change == 7) tail = "}";
    const std::string message_tail = tail;  // the tail a layout covers: to the message's `}`
    if (change == 8) tail += "}";
    u += 1 + rng() % 5;
    const std::string decimals = rng() % 6 == 0 ? R"(,"b":"60000.1","B":"1.5","a":"60000.2","A":"2.5")"
                                                : R"(,"b":"60000.10","B":"1.500","a":"60000.20","A":"2.500")";
    std::string frame = std::string(rng() % 8 == 0 ? "{" : R"({"e":"bookTicker",)") + "\"u\":" + std::to_string(u) +
                        ",\"s\":\"" + instruments[id].symbol + "\"" + decimals + tail;
    if (combined) frame = R"({"stream":"x@bookTicker","data":)" + frame + (change == 9 ? "" : "}");
    // The layout the fast path may learn: digits as '#', when the key reader accepts the tail and it
    // fits TailShape (16 to 48 bytes, E of at most 16 digits).
    const auto [known, same_layout] = tails[id].see(message_tail);
    const bool learnable = change != 5 && change != 6 && change != 7 && change != 10 && message_tail.size() - 1 >= 16 &&
                           message_tail.size() - 1 <= 48 && e_text.size() <= 16;
    if (!learnable) tails[id].streak = 0;
    const std::uint64_t before = twin.left->tail_shape_frames();
    twin.frame(frame, frame, n);
    const bool read_by_layout = twin.left->tail_shape_frames() == before + 1;
    if (known && same_layout) {
      CHECK(read_by_layout);
      ++expected_by_layout;
    }
    if (known && !same_layout) {
      if (read_by_layout) std::fprintf(stderr, "read by another layout (change %d): %s\n", change, frame.c_str());
      CHECK(!read_by_layout);
      ++refused_by_layout;
    }
    by_layout += read_by_layout ? 1 : 0;
  }
  twin.check_end_state();
  CHECK_EQ(twin.right->tail_shape_frames(), 0U);
  const auto& counters = twin.left->counters();
  std::printf("shaped tails: %llu frames, %d tails by the layout (%d expected at least), %d changed tails refused "
              "by it, %llu bad\n",
              static_cast<unsigned long long>(counters.frames), by_layout, expected_by_layout, refused_by_layout,
              static_cast<unsigned long long>(counters.bad_frames));
  CHECK(expected_by_layout > 8'000);
  CHECK(refused_by_layout > 300);
  CHECK(counters.bad_frames > 100);
}

}  // namespace

int main() {
  test_edge_frames();
  test_decimal_shapes();
  test_wire_steps();
  test_integer_fields();
  test_shaped_levels();
  test_shaped_book_tickers();
  test_shaped_heads();
  test_shaped_tails();
  test_recordings_fast_equals_general();
  test_reordered_keys_fall_back_to_same_result();
  test_mutations_agree();
  return report("test_binance_fast_path");
}
