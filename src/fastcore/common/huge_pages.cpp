#include "fastcore/common/huge_pages.hpp"

#include <cassert>
#include <cstdlib>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FASTCORE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FASTCORE_ASAN 1
#endif
#endif
#if defined(FASTCORE_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace fastcore::common {
namespace {

// The pool's own memory is invisible to AddressSanitizer's allocator: poisoning free blocks keeps use
// after free (and reads of memory never handed out) reported.
void poison(const void* p, std::size_t bytes) noexcept {
#if defined(FASTCORE_ASAN)
  ASAN_POISON_MEMORY_REGION(p, bytes);
#else
  (void)p;
  (void)bytes;
#endif
}

void unpoison(const void* p, std::size_t bytes) noexcept {
#if defined(FASTCORE_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#else
  (void)p;
  (void)bytes;
#endif
}

// `n` rounded up to a multiple of `to` (a power of two); 0 on overflow.
std::size_t round_up(std::size_t n, std::size_t to) noexcept {
  if (n > SIZE_MAX - (to - 1)) return 0;
  return (n + to - 1) & ~(to - 1);
}

}  // namespace

HugeRegion allocate_huge_region(std::size_t bytes) {
  const std::size_t rounded = round_up(bytes == 0 ? 1 : bytes, kHugePageSize);
  if (rounded == 0 || rounded > SIZE_MAX - kHugePageSize) throw std::bad_alloc();
  HugeRegion region;
  region.bytes = rounded;
#if defined(__linux__)
  // mmap aligns only to 4 KiB: map one huge page more and unmap the unaligned head and the tail, so the
  // whole region is made of 2 MiB-aligned ranges (the kernel backs only those with huge pages).
  const std::size_t span = rounded + kHugePageSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw != MAP_FAILED) {
    const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + kHugePageSize - 1) & ~(std::uintptr_t{kHugePageSize} - 1);
    const std::size_t head = aligned - start;
    const std::size_t tail = span - head - rounded;
    if (head != 0) ::munmap(raw, head);
    if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + rounded), tail);
    region.data = reinterpret_cast<void*>(aligned);
    region.mapped = true;
    // Failure (THP compiled out, EINVAL on old kernels) leaves ordinary pages: not an error.
    region.advised = ::madvise(region.data, rounded, MADV_HUGEPAGE) == 0;
    return region;
  }
#endif
  region.data = ::operator new(rounded, std::align_val_t{kHugePageSize});
  return region;
}

void release_huge_region(const HugeRegion& region) noexcept {
  if (region.data == nullptr) return;
#if defined(__linux__)
  if (region.mapped) {
    ::munmap(region.data, region.bytes);
    return;
  }
#endif
  ::operator delete(region.data, std::align_val_t{kHugePageSize});
}

BlockPool::BlockPool(std::size_t block_bytes, std::size_t alignment, std::size_t chunk_bytes)
    : alignment_(alignment) {
  if (alignment < alignof(FreeBlock) || alignment > kHugePageSize || (alignment & (alignment - 1)) != 0) {
    throw std::invalid_argument("BlockPool: alignment must be a power of two in [alignof(void*), 2 MiB]");
  }
  block_bytes_ = round_up(block_bytes, alignment);
  if (block_bytes == 0 || block_bytes_ == 0 || block_bytes_ > SIZE_MAX / 2) {
    throw std::invalid_argument("BlockPool: block size must be > 0 and representable");
  }
  chunk_bytes_ = round_up(chunk_bytes < block_bytes_ ? block_bytes_ : chunk_bytes, kHugePageSize);
  if (chunk_bytes_ == 0) throw std::invalid_argument("BlockPool: chunk size too large");
}

BlockPool::~BlockPool() {
  assert(in_use_ == 0 && "BlockPool destroyed with blocks in use");
  for (const HugeRegion& chunk : chunks_) {
    unpoison(chunk.data, chunk.bytes);
    release_huge_region(chunk);
  }
}

void BlockPool::add_chunk() {
  chunks_.reserve(chunks_.size() + 1);  // so push_back below cannot throw with a region in hand
  const HugeRegion chunk = allocate_huge_region(chunk_bytes_);
  chunks_.push_back(chunk);
  carve_ = static_cast<char*>(chunk.data);
  carve_end_ = carve_ + chunk.bytes / block_bytes_ * block_bytes_;
  poison(chunk.data, chunk.bytes);
}

void* BlockPool::allocate() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (free_ != nullptr) {
    FreeBlock* block = free_;
    unpoison(block, block_bytes_);
    free_ = block->next;
    ++in_use_;
    return block;
  }
  if (static_cast<std::size_t>(carve_end_ - carve_) < block_bytes_) add_chunk();
  void* block = carve_;
  carve_ += block_bytes_;
  unpoison(block, block_bytes_);
  ++in_use_;
  return block;
}

void BlockPool::deallocate(void* block) noexcept {
  if (block == nullptr) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  free_ = ::new (block) FreeBlock{free_};
  // Not asserted: a block may come from an equal pool of another shared object (see BookSide's pool),
  // whose count then keeps it; the count is a statistic, the free list is what matters.
  if (in_use_ > 0) --in_use_;
  poison(block, block_bytes_);
}

std::size_t BlockPool::blocks_in_use() const noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

std::size_t BlockPool::chunk_count() const noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  return chunks_.size();
}

bool BlockPool::owns(const void* p) const noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  for (const HugeRegion& chunk : chunks_) {
    const auto begin = reinterpret_cast<std::uintptr_t>(chunk.data);
    if (at >= begin && at - begin < chunk.bytes) return true;
  }
  return false;
}

std::vector<HugeRegion> BlockPool::chunks() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return chunks_;
}

std::string transparent_huge_page_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  // "always [madvise] never": the bracketed word is the mode.
  const std::size_t open = line.find('[');
  const std::size_t close = line.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open + 1, close - open - 1);
}

std::int64_t anon_huge_bytes(const void* begin, std::size_t bytes) {
  std::ifstream in("/proc/self/smaps");
  if (!in) return -1;
  const auto lo = reinterpret_cast<std::uintptr_t>(begin);
  const std::uintptr_t hi = lo + bytes;
  std::int64_t total = 0;
  bool inside = false;  // the current mapping overlaps [lo, hi)
  std::string line;
  while (std::getline(in, line)) {
    // A mapping's header: "start-end perms offset dev inode [path]" in lowercase hex; its fields follow
    // as "Name:   value kB" lines (names start with an uppercase letter, so never parse as hex).
    char* end = nullptr;
    const unsigned long long start = std::strtoull(line.c_str(), &end, 16);
    if (end != line.c_str() && *end == '-') {
      const unsigned long long stop = std::strtoull(end + 1, &end, 16);
      inside = *end == ' ' && start < hi && stop > lo;
      continue;
    }
    static constexpr char kField[] = "AnonHugePages:";
    if (inside && line.compare(0, sizeof(kField) - 1, kField) == 0) {
      total += std::strtoll(line.c_str() + sizeof(kField) - 1, nullptr, 10) * 1024;
    }
  }
  return total;
}

}  // namespace fastcore::common
