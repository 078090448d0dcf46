// Huge-page regions and the block pool (fastcore/common/huge_pages.hpp): regions aligned to 2 MiB; pool
// blocks distinct, aligned, whole, reused after free, and intact through many random allocations and
// frees (run under ASan too, which also checks the pool's poisoning of free blocks lets valid uses
// through); the books' window blocks come from their pool and go back to it. On Linux with THP not
// `never`, a 1,000-book set must actually sit in huge pages (AnonHugePages in /proc/self/smaps); that
// part is skipped, with the reason printed, when THP is off or smaps is unreadable.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "fastcore/book/book_set.hpp"
#include "fastcore/common/huge_pages.hpp"

namespace {

using fastcore::common::allocate_huge_region;
using fastcore::common::BlockPool;
using fastcore::common::HugeRegion;
using fastcore::common::kHugePageSize;

bool aligned(const void* p, std::size_t to) { return reinterpret_cast<std::uintptr_t>(p) % to == 0; }

void test_region() {
  for (const std::size_t bytes : {std::size_t{1}, kHugePageSize, kHugePageSize + 1, 5 * kHugePageSize}) {
    const HugeRegion region = allocate_huge_region(bytes);
    CHECK(region.data != nullptr);
    CHECK(aligned(region.data, kHugePageSize));
    CHECK(region.bytes >= bytes);
    CHECK_EQ(region.bytes % kHugePageSize, 0u);
    CHECK(region.bytes < bytes + kHugePageSize);
    std::memset(region.data, 0x5A, region.bytes);  // all of it is writable
    CHECK_EQ(static_cast<unsigned char*>(region.data)[region.bytes - 1], 0x5A);
#if defined(__linux__)
    CHECK(region.mapped);
#endif
    fastcore::common::release_huge_region(region);
  }
  fastcore::common::release_huge_region(HugeRegion{});  // ignored
}

void test_bad_arguments() {
  int thrown = 0;
  for (const auto& [bytes, align] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 64}, {64, 0}, {64, 48}, {64, 4}, {64, 2 * kHugePageSize}, {SIZE_MAX - 10, 64}}) {
    try {
      BlockPool pool(bytes, align);
    } catch (const std::invalid_argument&) {
      ++thrown;
    }
  }
  CHECK_EQ(thrown, 6);
}

void test_blocks_distinct_aligned_whole() {
  // 1,000 bytes rounded to 1,024; 2 MiB chunks hold 2,048 of them.
  BlockPool pool(1000, 256, kHugePageSize);
  CHECK_EQ(pool.block_bytes(), 1024u);
  CHECK_EQ(pool.chunk_count(), 0u);  // nothing mapped before the first block
  std::vector<char*> blocks;
  for (int i = 0; i < 5000; ++i) {
    auto* block = static_cast<char*>(pool.allocate());
    CHECK(block != nullptr);
    CHECK(aligned(block, 256));
    CHECK(pool.owns(block));
    CHECK(pool.owns(block + pool.block_bytes() - 1));
    std::memset(block, i & 0xFF, pool.block_bytes());
    blocks.push_back(block);
  }
  CHECK_EQ(pool.blocks_in_use(), 5000u);
  CHECK_EQ(pool.chunk_count(), 3u);  // ceil(5000 / 2048)
  // Distinct and not overlapping: sorted, each starts at least a block after the previous one.
  std::vector<char*> sorted = blocks;
  std::sort(sorted.begin(), sorted.end());
  bool apart = true;
  for (std::size_t i = 1; i < sorted.size(); ++i) apart = apart && sorted[i] - sorted[i - 1] >= 1024;
  CHECK(apart);
  // Every block kept what was written into it (no other block's write reached it).
  bool intact = true;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto byte = static_cast<unsigned char>(i & 0xFF);
    intact = intact && static_cast<unsigned char>(blocks[i][0]) == byte &&
             static_cast<unsigned char>(blocks[i][1023]) == byte;
  }
  CHECK(intact);
  int local = 0;
  CHECK(!pool.owns(&local));
  for (char* block : blocks) pool.deallocate(block);
  CHECK_EQ(pool.blocks_in_use(), 0u);
  pool.deallocate(nullptr);  // ignored
  CHECK_EQ(pool.blocks_in_use(), 0u);
}

void test_reuse_after_free() {
  BlockPool pool(4096, 64);
  void* a = pool.allocate();
  void* b = pool.allocate();
  CHECK(a != b);
  pool.deallocate(a);
  CHECK(pool.allocate() == a);  // the freed block comes back first
  pool.deallocate(b);
  pool.deallocate(a);
  void* again_a = pool.allocate();
  void* again_b = pool.allocate();
  CHECK(again_a == a);  // most recently freed first
  CHECK(again_b == b);
  CHECK_EQ(pool.chunk_count(), 1u);
  // Freeing everything and allocating as many again maps nothing new.
  std::vector<void*> blocks{again_a, again_b};
  for (int i = 0; i < 100; ++i) blocks.push_back(pool.allocate());
  for (void* block : blocks) pool.deallocate(block);
  for (int i = 0; i < 102; ++i) blocks[static_cast<std::size_t>(i)] = pool.allocate();
  CHECK_EQ(pool.chunk_count(), 1u);
  for (void* block : blocks) pool.deallocate(block);
}

void test_random_churn() {
  // Random allocations and frees; each live block carries its own tag across its whole length, checked
  // when it is freed: two live blocks sharing memory would overwrite each other's tags.
  BlockPool pool(3000, 64, kHugePageSize);
  std::mt19937_64 rng(7);
  struct Live {
    std::uint64_t* block;
    std::uint64_t tag;
  };
  std::vector<Live> live;
  std::uint64_t next_tag = 1;
  std::size_t peak = 0;
  bool intact = true;
  const std::size_t words = pool.block_bytes() / sizeof(std::uint64_t);
  auto free_one = [&](std::size_t i) {
    for (std::size_t w = 0; w < words; ++w) intact = intact && live[i].block[w] == live[i].tag + w;
    pool.deallocate(live[i].block);
    live[i] = live.back();
    live.pop_back();
  };
  for (int step = 0; step < 200000; ++step) {
    // Grow towards ~2,000 live blocks, then hover: both fresh carving and free-list reuse are exercised.
    const bool grow = live.empty() || rng() % 100 < (live.size() < 2000 ? 60u : 45u);
    if (grow) {
      auto* block = static_cast<std::uint64_t*>(pool.allocate());
      const std::uint64_t tag = next_tag++ << 20;
      for (std::size_t w = 0; w < words; ++w) block[w] = tag + w;
      live.push_back(Live{block, tag});
      peak = std::max(peak, live.size());
    } else {
      free_one(static_cast<std::size_t>(rng() % live.size()));
    }
    if (pool.blocks_in_use() != live.size()) intact = false;
  }
  CHECK(intact);
  // Chunks only for the peak (a block is carved only when every carved one is live).
  const std::size_t per_chunk = kHugePageSize / pool.block_bytes();  // 697 blocks of 3,008 bytes
  CHECK_EQ(pool.chunk_count(), (peak + per_chunk - 1) / per_chunk);
  while (!live.empty()) free_one(live.size() - 1);
  CHECK(intact);
  CHECK_EQ(pool.blocks_in_use(), 0u);
}

void test_books_use_the_pool() {
  BlockPool& pool = fastcore::book::BookSide::storage_pool();
  const std::size_t before = pool.blocks_in_use();
  {
    fastcore::book::BookSet books(300);
    CHECK_EQ(pool.blocks_in_use(), before + 600);  // two sides a book
    fastcore::book::Book copy = books[7];
    CHECK_EQ(pool.blocks_in_use(), before + 602);
  }
  CHECK_EQ(pool.blocks_in_use(), before);
}

void test_books_get_huge_pages() {
  const std::string mode = fastcore::common::transparent_huge_page_mode();
  if (mode.empty() || mode == "never") {
    std::printf("SKIP huge-page backing: transparent huge pages are %s\n",
                mode.empty() ? "unavailable (no /sys/kernel/mm/transparent_hugepage/enabled)" : "off (`never`)");
    return;
  }
  fastcore::book::BookSet books(1000);  // constructing the sides zeroes (touches) every window
  const std::vector<HugeRegion> chunks = fastcore::book::BookSide::storage_pool().chunks();
  std::int64_t huge = 0;
  std::int64_t bytes = 0;
  bool advised = true;
  for (const HugeRegion& chunk : chunks) {
    const std::int64_t in_chunk = fastcore::common::anon_huge_bytes(chunk.data, chunk.bytes);
    if (in_chunk < 0) {
      std::printf("SKIP huge-page backing: /proc/self/smaps is unreadable\n");
      return;
    }
    huge += in_chunk;
    bytes += static_cast<std::int64_t>(chunk.bytes);
    advised = advised && chunk.advised;
  }
  std::printf("huge-page backing (THP %s): %lld of %lld MiB of the book pool's chunks\n", mode.c_str(),
              static_cast<long long>(huge >> 20), static_cast<long long>(bytes >> 20));
  CHECK(advised);
  // Every byte of the 2,000 windows was touched; a merged neighbour mapping may add to the sum, which
  // is why this asks for most, not exactly all, of the chunks.
  CHECK(huge >= bytes / 2);
}

}  // namespace

int main() {
  test_region();
  test_bad_arguments();
  test_blocks_distinct_aligned_whole();
  test_reuse_after_free();
  test_random_churn();
  test_books_use_the_pool();
  test_books_get_huge_pages();
  return report("test_huge_pages");
}
