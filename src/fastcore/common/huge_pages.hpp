#pragma once
/// Memory in 2 MiB transparent huge pages, where the system gives them: regions and a fixed-size block pool.
///
/// Why: 1,000 books hold two 66 KiB window blocks each, about 135 MiB over ~33,000 4 KiB pages, far more
/// than the L2 TLB covers (2,048 entries), so the first touch of a cold instrument's book paid a page walk
/// (several dependent loads of page-table entries) on top of its cache misses. In 2 MiB pages the same
/// memory is ~68 pages, which the TLB holds (engine tick-to-decision p50 -30 %, p99 -20 to -25 % with
/// 1,000 instruments: bench/BENCHMARKS.md, "Huge pages for per-instrument state"). Linux backs anonymous
/// memory with huge pages only where the region is advised (THP mode `madvise`, the usual default) or
/// everywhere (`always`); malloc'ed blocks sit on the brk heap, which nobody advises, hence regions of
/// their own here.
///
/// Regions: 2 MiB-aligned anonymous mmap plus madvise(MADV_HUGEPAGE) on Linux. Elsewhere, or when mmap
/// fails, aligned operator new (the memory is then ordinary; nothing else changes). madvise failing (THP
/// compiled out, mode `never`) is not an error: the region simply stays in 4 KiB pages.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace fastcore::common {

/// Size (and alignment) of a transparent huge page on x86-64 and arm64 with 4 KiB base pages.
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

/// A region from allocate_huge_region().
struct HugeRegion {
  void* data = nullptr;
  std::size_t bytes = 0;  ///< A multiple of kHugePageSize.
  bool mapped = false;    ///< From mmap (and advised for huge pages); false: aligned operator new.
  bool advised = false;   ///< madvise(MADV_HUGEPAGE) succeeded on it.
};

/// At least `bytes` of memory (rounded up to kHugePageSize), aligned to kHugePageSize, advised for huge
/// pages where possible. Contents unspecified. Throws std::bad_alloc when no memory can be had.
[[nodiscard]] HugeRegion allocate_huge_region(std::size_t bytes);

/// Returns a region from allocate_huge_region() (a default-constructed one is ignored).
void release_huge_region(const HugeRegion& region) noexcept;

/// Fixed-size blocks carved from huge-page regions ("chunks"), with a free list.
///
/// Blocks are handed out from the newest chunk in address order (pages are touched only as blocks are
/// used) and freed blocks are reused first, most recently freed first. Chunks are returned only by the
/// destructor, which requires every block to be freed: a pool that backs objects of unknown lifetime
/// (the books' process-wide pool) is never destroyed, so it keeps its peak size for the process, as a
/// malloc arena does. Thread-safe (a mutex: allocation is for construction, never a hot path). Under
/// AddressSanitizer, free and not yet carved memory is poisoned, so use after free still reports.
class BlockPool {
 public:
  /// Default chunk size: two huge pages.
  static constexpr std::size_t kDefaultChunkBytes = 2 * kHugePageSize;

  /// Blocks of `block_bytes` (> 0; rounded up to `alignment`) aligned to `alignment` (a power of two,
  /// at least alignof(void*), at most kHugePageSize), from chunks of `chunk_bytes` (rounded up to
  /// kHugePageSize, and to one block). Throws std::invalid_argument for a bad size or alignment.
  BlockPool(std::size_t block_bytes, std::size_t alignment, std::size_t chunk_bytes = kDefaultChunkBytes);
  /// Releases every chunk. Every block must have been freed.
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  /// A block of block_bytes() (contents unspecified). Throws std::bad_alloc.
  [[nodiscard]] void* allocate();
  /// Returns a block from allocate() of this pool, or of a pool with the same block size and alignment
  /// that is never destroyed (nullptr is ignored).
  void deallocate(void* block) noexcept;

  /// Size of a block (the requested size rounded up to the alignment): the pool's stride.
  [[nodiscard]] std::size_t block_bytes() const noexcept { return block_bytes_; }
  /// Blocks allocated here and not yet freed (here).
  [[nodiscard]] std::size_t blocks_in_use() const noexcept;
  /// Chunks held (never shrinks before destruction).
  [[nodiscard]] std::size_t chunk_count() const noexcept;
  /// Whether `p` points into one of the pool's chunks.
  [[nodiscard]] bool owns(const void* p) const noexcept;
  /// The chunks held (copies), e.g. to read their huge-page backing from /proc/self/smaps.
  [[nodiscard]] std::vector<HugeRegion> chunks() const;

 private:
  struct FreeBlock {
    FreeBlock* next;
  };

  void add_chunk();  // mutex_ held

  std::size_t block_bytes_;
  std::size_t alignment_;
  std::size_t chunk_bytes_;
  mutable std::mutex mutex_;
  std::vector<HugeRegion> chunks_;
  FreeBlock* free_ = nullptr;
  char* carve_ = nullptr;      // next never-used block of the newest chunk
  char* carve_end_ = nullptr;  // end of the newest chunk's whole blocks
  std::size_t in_use_ = 0;
};

/// THP mode from /sys/kernel/mm/transparent_hugepage/enabled: "always", "madvise", "never", or "" when
/// the file is missing or unreadable (not Linux, or THP compiled out).
[[nodiscard]] std::string transparent_huge_page_mode();

/// Bytes of `region` backed by anonymous huge pages, summed from the AnonHugePages lines of
/// /proc/self/smaps for the mappings inside it; -1 when smaps cannot be read (not Linux, no /proc).
[[nodiscard]] std::int64_t anon_huge_bytes(const void* begin, std::size_t bytes);

}  // namespace fastcore::common
