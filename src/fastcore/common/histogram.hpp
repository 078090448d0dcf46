#pragma once
/// Log-linear latency histogram (HDR-style): exact below 128, then 64 sub-buckets per power of two,
/// so any recorded value is reported within 1/64 (1.6 %) above its true value. Fixed size, no
/// allocation after construction, O(1) record.
#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace fastcore::common {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kExactBelow = 1ULL << kSubBits;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * (kExactBelow / 2) + kExactBelow / 2;

  /// Adds one sample. Cost: a count-leading-zeros and an increment.
  void record(std::uint64_t value) noexcept {
    ++counts_[index_of(value)];
    ++total_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  /// Adds every sample of `other`.
  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    if (other.min_ < min_) min_ = other.min_;
    if (other.max_ > max_) max_ = other.max_;
  }

  void reset() noexcept { *this = Histogram{}; }

  /// Smallest bucket bound with at least `percent`% of samples at or below it (0 when empty).
  /// Reports the bucket's highest value, so percentiles never understate; max() is exact.
  [[nodiscard]] std::uint64_t percentile(double percent) const noexcept {
    if (total_ == 0) return 0;
    if (percent >= 100.0) return max_;
    auto target = static_cast<std::uint64_t>(percent / 100.0 * static_cast<double>(total_) + 0.999999);
    if (target == 0) target = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= target) {
        const std::uint64_t upper = highest_in_bucket(i);
        return upper < max_ ? upper : max_;
      }
    }
    return max_;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept {
    return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
  }
  [[nodiscard]] const std::array<std::uint64_t, kBuckets>& counts() const noexcept { return counts_; }

  static constexpr std::size_t index_of(std::uint64_t value) noexcept {
    if (value < kExactBelow) return static_cast<std::size_t>(value);
    const int msb = 63 - std::countl_zero(value);
    const int shift = msb - kSubBits + 1;
    return (static_cast<std::size_t>(shift) << (kSubBits - 1)) + static_cast<std::size_t>(value >> shift);
  }

  static constexpr std::uint64_t lowest_in_bucket(std::size_t index) noexcept {
    if (index < kExactBelow) return index;
    const std::size_t shift = (index >> (kSubBits - 1)) - 1;
    const std::uint64_t mantissa = index - (shift << (kSubBits - 1));
    return mantissa << shift;
  }

  static constexpr std::uint64_t highest_in_bucket(std::size_t index) noexcept {
    if (index < kExactBelow) return index;
    const std::size_t shift = (index >> (kSubBits - 1)) - 1;
    return lowest_in_bucket(index) + ((1ULL << shift) - 1);
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

static_assert(Histogram::index_of(std::numeric_limits<std::uint64_t>::max()) == Histogram::kBuckets - 1,
              "the largest value must land in the last bucket");
static_assert(Histogram::lowest_in_bucket(Histogram::index_of(1000)) <= 1000 &&
                  Histogram::highest_in_bucket(Histogram::index_of(1000)) >= 1000,
              "bucket bounds must bracket the value");

}  // namespace fastcore::common
