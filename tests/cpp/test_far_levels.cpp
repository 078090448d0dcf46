// FarLevels against std::map on random inserts, erases, pops and clears: blocks split, empty and merge.
#include <functional>
#include <map>
#include <vector>

#include "check.hpp"
#include "fastcore/book/far_levels.hpp"
#include "fastcore/sim/synthetic_market.hpp"

using fastcore::book::FarLevels;

namespace {

bool same(const FarLevels& far, const std::map<std::int64_t, std::int64_t, std::greater<>>& reference) {
  if (far.size() != reference.size()) return false;
  std::vector<FarLevels::Entry> entries;
  far.for_each([&](FarLevels::Entry entry) {
    entries.push_back(entry);
    return true;
  });
  std::size_t i = 0;
  for (const auto& [key, qty] : reference) {
    if (entries[i].key != key || entries[i].qty != qty || far.find(key) == nullptr || *far.find(key) != qty) {
      return false;
    }
    ++i;
  }
  if (!reference.empty()) {
    if (far.front().key != reference.begin()->first || far.back().key != reference.rbegin()->first) return false;
  }
  return true;
}

void random_operations(std::uint64_t seed, std::uint64_t key_range) {
  fastcore::sim::Rng rng(seed);
  FarLevels far;
  std::map<std::int64_t, std::int64_t, std::greater<>> reference;
  for (int step = 0; step < 300'000; ++step) {
    const auto key = static_cast<std::int64_t>(rng.below(key_range)) - static_cast<std::int64_t>(key_range / 2);
    const std::uint64_t action = rng.below(100);
    // Half of the updates and erases through locate() and the positional calls (BookSide's path).
    const bool positional = rng.below(2) == 0;
    if (action < 55) {
      const auto qty = 1 + static_cast<std::int64_t>(rng.below(1000));
      if (positional) {
        const FarLevels::Position position = far.locate(key);
        CHECK_EQ(position.found, reference.count(key) == 1);
        if (position.found) {
          CHECK_EQ(far.qty_at(position), reference[key]);
          far.qty_at(position) = qty;
        } else {
          far.insert_at(position, key, qty);
        }
      } else if (std::int64_t* stored = far.find(key)) {
        *stored = qty;
      } else {
        far.insert(key, qty);
      }
      reference[key] = qty;
    } else if (action < 95) {
      if (positional) {
        const FarLevels::Position position = far.locate(key);
        CHECK_EQ(position.found, reference.count(key) == 1);
        if (position.found) far.erase_at(position);
        reference.erase(key);
      } else {
        CHECK_EQ(far.erase(key), reference.erase(key) == 1);
      }
    } else if (action < 98 && !reference.empty()) {
      const FarLevels::Entry best = far.pop_front();
      CHECK(best.key == reference.begin()->first && best.qty == reference.begin()->second);
      reference.erase(reference.begin());
    } else if (action < 99 && !reference.empty()) {
      far.pop_back();
      reference.erase(std::prev(reference.end()));
    } else if (rng.below(50) == 0) {
      far.clear();
      reference.clear();
    }
    CHECK_EQ(far.worse_than_all(key), reference.empty() || key < reference.rbegin()->first);
    if (step % 5003 == 0) CHECK(same(far, reference));
  }
  CHECK(same(far, reference));
}

void ordered_fill_and_drain() {
  // Snapshots arrive best first (appends); a window move prepends better levels one by one.
  FarLevels far;
  for (std::int64_t key = 0; key > -5000; --key) far.insert(key, 1);
  for (std::int64_t key = 1; key <= 5000; ++key) far.insert(key, 2);
  CHECK(far.size() == 10000 && far.front().key == 5000 && far.back().key == -4999);
  for (std::int64_t key = 5000; key > -5000; --key) CHECK(far.pop_front().key == key);
  CHECK(far.empty() && far.worse_than_all(0));
  // The same through locate() and insert_at(): appends past the worst, prepends, splits of full blocks.
  FarLevels positional;
  for (std::int64_t key = 0; key > -5000; --key) positional.insert_at(positional.locate(key), key, 1);
  for (std::int64_t key = 1; key <= 5000; ++key) positional.insert_at(positional.locate(key), key, 2);
  CHECK(positional.size() == 10000 && positional.front().key == 5000 && positional.back().key == -4999);
  for (std::int64_t key = 5000; key > -5000; --key) CHECK(positional.pop_front().key == key);
  CHECK(positional.empty());
}

}  // namespace

int main() {
  random_operations(1, 200);        // dense: lots of updates of existing keys
  random_operations(2, 20'000);     // mid
  random_operations(3, 1ULL << 40); // sparse: mostly inserts and misses
  ordered_fill_and_drain();
  return report("test_far_levels");
}
