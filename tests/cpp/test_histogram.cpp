#include "check.hpp"
#include "fastcore/common/histogram.hpp"

using fastcore::common::Histogram;

int main() {
  Histogram h;
  CHECK(h.percentile(50) == 0 && h.count() == 0 && h.min() == 0);
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.percentile(50) == 50);  // exact below 128
  CHECK(h.percentile(99) == 99);
  CHECK(h.percentile(100) == 100 && h.max() == 100 && h.min() == 1);
  Histogram big;
  for (int i = 0; i < 1000; ++i) big.record(1'000'000);
  const std::uint64_t p = big.percentile(50);
  CHECK(p >= 1'000'000 && p <= 1'000'000 + 1'000'000 / 64);
  CHECK(big.percentile(50) == 1'000'000);  // clipped to the exact max
  big.record(2'000'000);
  CHECK(big.percentile(50) >= 1'000'000 && big.percentile(50) <= 1'000'000 + 1'000'000 / 64);
  for (std::size_t i = 0; i + 1 < Histogram::kBuckets; ++i) {
    CHECK(Histogram::highest_in_bucket(i) + 1 == Histogram::lowest_in_bucket(i + 1));
  }
  h.merge(big);
  CHECK(h.count() == 1101 && h.max() == 2'000'000);
  return report("test_histogram");
}
