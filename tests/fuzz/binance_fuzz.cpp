// libFuzzer harness for the Binance parser and book sync (src/fastcore/venue/binance.*).
//
// Input: a mode byte, then frames separated by '\n'. A frame "#<d><body>" is a REST depth snapshot for
// instrument d % 6; any other frame goes to on_frame(). Mode & 3: 0 USD-M feed, 1 spot feed, 2 the wire
// decimal reader against common::try_to_steps, 3 USD-M with a tiny buffer (overflow paths).
// Checked after every call: no crash, no sanitizer report, the feed's own invariants, and that a second
// feed with the key-order fast path switched off returned the same status, events, error text and
// counters (the fast path must either read a frame exactly as the general scanner does or leave it).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "fastcore/book/book_set.hpp"
#include "fastcore/common/instrument.hpp"
#include "fastcore/venue/binance.hpp"
#include "fastcore/venue/wire_decimal.hpp"

using namespace fastcore;

namespace {

common::Instrument make(const char* symbol, const char* tick, const char* lot) {
  common::Instrument instrument;
  common::InstrumentField failed{};
  if (common::try_make_instrument(symbol, "binance_usdm", tick, lot, "0", "0", "1", false, instrument, failed) !=
      common::DecimalError::kOk) {
    std::abort();
  }
  return instrument;
}

const std::vector<common::Instrument>& instruments() {
  static const std::vector<common::Instrument> list = {
      make("BTCUSDT", "0.01", "0.00000001"), make("ETHUSDT", "0.01", "0.001"), make("SUSHIUSDT", "0.001", "1"),
      make("AKROUSDT", "0.00001", "1"),     make("KEEPUSDT", "0.0001", "1"),  make("CTKUSDT", "0.00001", "1"),
      // Steps that are not a power of ten (units 5) and coarser than 1 (negative decimals).
      make("BNBUSDT", "0.05", "10")};
  return list;
}

#define FUZZ_ASSERT(condition) \
  do {                         \
    if (!(condition)) std::abort(); \
  } while (0)

void check_decimal(std::string_view text) {
  // Differential: the fast reader must give exactly what the general parser gives.
  for (const common::DecimalStep step : {common::DecimalStep{1, 0}, common::DecimalStep{1, 2}, common::DecimalStep{5, 3},
                                         common::DecimalStep{1, 8}, common::DecimalStep{25, 1}}) {
    std::vector<char> quoted(text.begin(), text.end());
    quoted.push_back('"');
    const char* p = quoted.data();
    std::int64_t fast = 0;
    const auto result = venue::read_quoted_steps(p, quoted.data() + quoted.size(), step, false, fast);
    const bool plain = text.find('"') == std::string_view::npos && text.find('\\') == std::string_view::npos;
    bool control = false;
    for (const char c : text) control |= static_cast<unsigned char>(c) < 0x20U;
    if (!plain || control) continue;  // JSON-level problems: not comparable
    FUZZ_ASSERT(result.json_ok);
    std::int64_t slow = 0;
    const auto expected = common::try_to_steps(text, step, false, slow);
    FUZZ_ASSERT(result.decimal == expected);
    if (expected == common::DecimalError::kOk) FUZZ_ASSERT(fast == slow);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] & 3;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode == 2) {
    check_decimal(input);
    return 0;
  }
  book::BookSet books(instruments().size(), 2000);
  venue::BinanceFeedConfig config;
  config.market = mode == 1 ? venue::BinanceMarket::kSpot : venue::BinanceMarket::kUsdm;
  config.max_frame_bytes = 4096;
  config.max_buffered_diffs = mode == 3 ? 4 : 1000;
  venue::BinanceFeed feed(instruments(), books, config);
  book::BookSet plain_books(instruments().size(), 2000);
  venue::BinanceFeedConfig plain_config = config;
  plain_config.fast_path = false;
  venue::BinanceFeed plain(instruments(), plain_books, plain_config);
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t stop = input.find('\n', start);
    if (stop == std::string_view::npos) stop = input.size();
    // Each frame in a heap block of exactly its size, so ASan reports any read past its end.
    const std::string_view piece = input.substr(start, stop - start);
    const std::unique_ptr<char[]> owned(new char[piece.size() + (piece.empty() ? 1 : 0)]);
    std::memcpy(owned.get(), piece.data(), piece.size());
    const std::string_view frame(owned.get(), piece.size());
    venue::FrameStatus status;
    venue::FrameStatus plain_status;
    if (frame.size() >= 2 && frame[0] == '#') {
      const auto id = static_cast<std::uint32_t>(static_cast<unsigned char>(frame[1]) % instruments().size());
      status = feed.apply_snapshot(id, frame.substr(2), 1);
      plain_status = plain.apply_snapshot(id, frame.substr(2), 1);
    } else {
      status = feed.on_frame(frame, 1);
      plain_status = plain.on_frame(frame, 1);
    }
    FUZZ_ASSERT(status == plain_status);
    FUZZ_ASSERT(feed.last_error() == plain.last_error());
    FUZZ_ASSERT(feed.last_instrument_id() == plain.last_instrument_id());
    const auto events = feed.last_events();
    const auto plain_events = plain.last_events();
    FUZZ_ASSERT(events.size() == plain_events.size());
    FUZZ_ASSERT(events.empty() || std::memcmp(events.data(), plain_events.data(), events.size_bytes()) == 0);
    venue::FeedCounters a = feed.counters();
    venue::FeedCounters b = plain.counters();
    a.fast_path_frames = b.fast_path_frames = 0;
    FUZZ_ASSERT(std::memcmp(&a, &b, sizeof a) == 0);
    FUZZ_ASSERT(static_cast<int>(status) <= static_cast<int>(venue::FrameStatus::kIgnored));
    if (status == venue::FrameStatus::kBadFrame) FUZZ_ASSERT(!feed.last_error().empty());
    for (std::uint32_t id = 0; id < feed.size(); ++id) {
      FUZZ_ASSERT(feed.buffered(id) <= config.max_buffered_diffs);
      // Only a live book carries a sequence; a book waiting for a snapshot was emptied (or never filled).
      if (feed.state(id) == venue::SyncState::kResync) FUZZ_ASSERT(books[id].seq() == 0 || books[id].bids().empty());
      if (feed.state(id) != venue::SyncState::kLive) FUZZ_ASSERT(books[id].bids().empty() && books[id].asks().empty());
    }
    for (const common::Event& event : feed.last_events()) {
      FUZZ_ASSERT(event.instrument_id < feed.size());
      FUZZ_ASSERT(event.qty_lots >= 0);
    }
    start = stop + 1;
  }
  const auto& counters = feed.counters();
  std::uint64_t by_reason = 0;
  for (const auto count : counters.bad_by_reason) by_reason += count;
  FUZZ_ASSERT(by_reason == counters.bad_frames);
  return 0;
}
