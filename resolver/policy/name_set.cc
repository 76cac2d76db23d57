#include "resolver/policy/name_set.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace rsv {

namespace {

constexpr unsigned kInfoBits = 10;
// Grow at 70 % full: probes stay short (about 2 on a miss) and the table small.
constexpr uint64_t kMaxLoadPercent = 70;
constexpr size_t kInitialSlots = 64;

uint64_t pack(uint64_t fingerprint, uint8_t coverage, uint8_t list, uint8_t action) {
  return fingerprint << kInfoBits | uint64_t{action} << 8 | uint64_t{list} << 2 | coverage;
}

constexpr uint64_t kHugePage = 2u << 20;

}  // namespace

SlotTable::SlotTable(size_t slots) : size_(slots) {
  const uint64_t bytes = uint64_t{slots} * sizeof(uint64_t);
  if (bytes < kHugePage) {
    // Small tables (the local names, short lists) share the heap's pages.
    mapped_bytes_ = bytes;
    data_ = static_cast<uint64_t *>(::operator new(bytes));
    std::fill(data_, data_ + slots, uint64_t{0});
    return;
  }
  // One huge page more than needed, so that an aligned start can be chosen; the
  // mapping is zeroed and only committed when touched.
  mapped_bytes_ = bytes + kHugePage;
  mapping_ = ::mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw std::bad_alloc();
  }
  const auto start = (reinterpret_cast<uintptr_t>(mapping_) + kHugePage - 1) & ~(kHugePage - 1);
  data_ = reinterpret_cast<uint64_t *>(start);
  ::madvise(data_, bytes, MADV_HUGEPAGE);  // advice: without THP it is plain pages
}

SlotTable::~SlotTable() {
  if (mapping_)
    ::munmap(mapping_, mapped_bytes_);
  else
    ::operator delete(data_);
}

NameSet::NameSet(uint64_t seed) : seed_(seed), slots_(kInitialSlots) {}

uint64_t NameSet::fingerprint(std::string_view wire) const {
  uint64_t hash = XXH3_64bits_withSeed(wire.data(), wire.size(), seed_) >> kInfoBits;
  return hash == 0 ? 1 : hash;  // 0 marks an empty slot
}

std::optional<uint64_t> NameSet::find(uint64_t fp) const {
  const uint64_t mask = slots_.size() - 1;
  for (uint64_t i = fp & mask;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return std::nullopt;
    if (slot >> kInfoBits == fp) return i;
  }
}

void NameSet::place(uint64_t slot) {
  const uint64_t mask = slots_.size() - 1;
  uint64_t i = (slot >> kInfoBits) & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = slot;
}

uint64_t NameSet::bytes_for(size_t entries) const {
  uint64_t slots = slots_.size();
  while ((size_ + entries) * 100 > slots * kMaxLoadPercent) slots *= 2;
  return slots * sizeof(uint64_t);
}

bool NameSet::grow(uint64_t max_bytes) {
  if (slots_.size() * 2 * sizeof(uint64_t) > max_bytes) return false;
  SlotTable old(slots_.size() * 2);
  old.swap(slots_);
  for (uint64_t slot : old)
    if (slot != 0) place(slot);
  return true;
}

bool NameSet::add(std::string_view lowered_wire, uint8_t coverage, uint8_t list, uint8_t action,
                  uint64_t max_bytes) {
  const uint64_t fp = fingerprint(lowered_wire);
  if (auto at = find(fp)) {
    slots_[*at] |= coverage & kSubtree;
    return true;
  }
  if ((size_ + 1) * 100 > slots_.size() * kMaxLoadPercent && !grow(max_bytes)) return false;
  place(pack(fp, coverage & kSubtree, list & (kMaxLists - 1), action & (kMaxActions - 1)));
  ++size_;
  return true;
}

std::optional<NameSet::Hit> NameSet::match(std::string_view wire) const {
  if (size_ == 0) return std::nullopt;
  // Every suffix's fingerprint first, with its slot's cache line asked for at once:
  // in a large table each probe is a cache miss, and this way a name's misses
  // overlap instead of following one another.
  constexpr size_t kBatch = 8;
  uint64_t fingerprints[kBatch];
  size_t offsets[kBatch];
  const uint64_t mask = slots_.size() - 1;
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    size_t count = 0;
    for (; count < kBatch && pos < wire.size() && wire[pos] != 0; ++count) {
      fingerprints[count] = fingerprint(wire.substr(pos));
      offsets[count] = pos;
      __builtin_prefetch(slots_.begin() + (fingerprints[count] & mask));
      pos += 1 + static_cast<uint8_t>(wire[pos]);
    }
    // From the name itself towards the top-level label; the first hit is the closest.
    for (size_t i = 0; i < count; ++i) {
      if (auto at = find(fingerprints[i])) {
        const uint64_t slot = slots_[*at];
        const bool exact = offsets[i] == 0;
        if (slot & (exact ? kSelf : kBelow))
          return Hit{static_cast<uint8_t>((slot >> 2) & (kMaxLists - 1)),
                     static_cast<uint8_t>((slot >> 8) & 3), offsets[i]};
      }
    }
  }
  return std::nullopt;
}

}  // namespace rsv
