// The host's memory hierarchy as the book sees it: for working sets from 16 KiB to 256 MiB, in huge-page
// memory like the book's windows, the time of one load that depends on the previous one (a pointer chase
// over 64-byte lines in random order), and the time per access of independent random loads and stores
// (as many in flight as the core allows). Explains where the many-book figures of `rentrade bench` come
// from: an update that touches a line outside the caches pays what this prints for that working set.
// Then the least memory work a book update can do, timed as `rentrade bench` times updates (runs of 16,
// lfence/rdtsc): read a random side's 128-byte header, then read-modify-write a word of a line the header
// points to, near its best (a sketch of an update near the touch, with none of the book's logic).
// Usage: memory_latency [repeats=3]
// Built only with -DRENTRADE_BUILD_BENCH=ON; never part of the default test run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "fastcore/common/clock.hpp"
#include "fastcore/common/huge_pages.hpp"

#include "bench_support.hpp"

using bench_support::median;

using namespace fastcore;

namespace {

struct alignas(64) Line {
  Line* next;
  std::uint64_t payload[7];
};

constexpr std::size_t kAccesses = 4'000'000;

// xorshift64: independent addresses without a multiply or a table in the loop.
std::uint64_t next_random(std::uint64_t& x) noexcept {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

double chase_ns(Line* lines, std::size_t count) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), std::mt19937_64(count));
  for (std::size_t i = 0; i < count; ++i) lines[order[i]].next = &lines[order[(i + 1) % count]];
  Line* at = &lines[order[0]];
  for (std::size_t i = 0; i < count; ++i) at = at->next;  // warm the caches and the TLB
  const std::int64_t t0 = common::monotonic_ns();
  for (std::size_t i = 0; i < kAccesses; ++i) at = at->next;
  const std::int64_t t1 = common::monotonic_ns();
  if (at == nullptr) std::abort();  // keeps the chase
  return static_cast<double>(t1 - t0) / kAccesses;
}

double independent_loads_ns(Line* lines, std::size_t count) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  std::uint64_t sum = 0;
  const std::int64_t t0 = common::monotonic_ns();
  for (std::size_t i = 0; i < kAccesses; ++i) sum += lines[next_random(x) % count].payload[0];
  const std::int64_t t1 = common::monotonic_ns();
  if (sum == 1) std::puts("");  // keeps the loads
  return static_cast<double>(t1 - t0) / kAccesses;
}

double independent_stores_ns(Line* lines, std::size_t count) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  const std::int64_t t0 = common::monotonic_ns();
  for (std::size_t i = 0; i < kAccesses; ++i) lines[next_random(x) % count].payload[1] = i;
  const std::int64_t t1 = common::monotonic_ns();
  return static_cast<double>(t1 - t0) / kAccesses;
}

// A side's header as the book has it: window base, best, room and the window's address, in 128 bytes.
struct alignas(64) SideHeader {
  std::int64_t base;
  std::int64_t best;
  std::int64_t room;
  std::uint64_t* window;
  std::int64_t cold[12];
};

// Nanoseconds per update, p50 over runs of 16 updates, of the header-then-line sketch on `sides` sides
// whose windows (a 66 KiB block each, like the book's) sit in `memory`.
double header_then_line_ns(unsigned char* memory, std::size_t sides, const common::CycleClock& clock) {
  constexpr std::size_t kBlockBytes = 66 * 1024;
  std::vector<SideHeader> headers(sides);
  for (std::size_t i = 0; i < sides; ++i) {
    // The book's cache colouring: each block at one of 16 line offsets.
    headers[i] = SideHeader{0, 6144, 100, reinterpret_cast<std::uint64_t*>(memory + i * kBlockBytes + (i % 16) * 64), {}};
  }
  constexpr std::size_t kUpdates = 4'000'000;
  std::vector<std::uint32_t> side_of(kUpdates);
  std::vector<std::uint32_t> depth_of(kUpdates);
  std::mt19937_64 rng(sides);
  for (std::size_t i = 0; i < kUpdates; ++i) {
    side_of[i] = static_cast<std::uint32_t>(rng() % sides);
    depth_of[i] = static_cast<std::uint32_t>(rng() % 8);
  }
  std::vector<double> runs;
  runs.reserve(kUpdates / 16);
  for (std::size_t i = 0; i + 16 <= kUpdates; i += 16) {
    const std::uint64_t t0 = common::CycleClock::start();
    for (std::size_t j = i; j < i + 16; ++j) {
      SideHeader& header = headers[side_of[j]];
      const auto slot = static_cast<std::uint64_t>(header.best - header.base - depth_of[j]);
      std::uint64_t& word = header.window[slot >> 6];
      const std::uint64_t old = word;
      word = old ^ (std::uint64_t{1} << (slot & 63));
      header.room += static_cast<std::int64_t>((old >> (slot & 63)) & 1) * 2 - 1;
    }
    const std::uint64_t t1 = common::CycleClock::stop();
    const std::uint64_t ticks = t1 - t0 > clock.overhead_ticks() ? t1 - t0 - clock.overhead_ticks() : 0;
    runs.push_back(static_cast<double>(ticks) * clock.ns_per_tick() / 16.0);
  }
  std::nth_element(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(runs.size() / 2), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  constexpr std::size_t kMaxBytes = std::size_t{256} << 20;
  const common::HugeRegion region = common::allocate_huge_region(kMaxBytes);
  auto* lines = static_cast<Line*>(region.data);
  std::fill_n(reinterpret_cast<unsigned char*>(lines), kMaxBytes, 0);
  std::printf("THP mode %s, %.0f%% of the region in huge pages\n", common::transparent_huge_page_mode().c_str(),
              100.0 * static_cast<double>(common::anon_huge_bytes(region.data, kMaxBytes)) / static_cast<double>(kMaxBytes));
  std::printf("%12s %14s %18s %19s   (medians of %d; ns per access)\n", "working set", "dependent load",
              "independent loads", "independent stores", repeats);
  for (std::size_t kib = 16; kib <= (kMaxBytes >> 10); kib *= 2) {
    const std::size_t count = (kib << 10) / sizeof(Line);
    std::vector<double> chase, loads, stores;
    for (int r = 0; r < repeats; ++r) {
      chase.push_back(chase_ns(lines, count));
      loads.push_back(independent_loads_ns(lines, count));
      stores.push_back(independent_stores_ns(lines, count));
    }
    std::printf("%8zu KiB %14.1f %18.1f %19.1f\n", kib, median(chase), median(loads), median(stores));
  }
  std::fill_n(reinterpret_cast<unsigned char*>(lines), kMaxBytes, 0);
  const common::CycleClock clock;
  std::printf("\nheader, then a word of the line it points to (runs of 16, p50; medians of %d)\n", repeats);
  std::printf("%8s %8s %15s\n", "books", "sides", "ns per update");
  for (const std::size_t books : {std::size_t{1}, std::size_t{10}, std::size_t{100}, std::size_t{1000}}) {
    std::vector<double> ns;
    for (int r = 0; r < repeats; ++r) ns.push_back(header_then_line_ns(static_cast<unsigned char*>(region.data), 2 * books, clock));
    std::printf("%8zu %8zu %15.1f\n", books, 2 * books, median(ns));
  }
  common::release_huge_region(region);
  return 0;
}
