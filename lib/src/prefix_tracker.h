// PrefixTracker: how much of a request one destination holds from its start.
// Writes complete out of order; a piece done beyond the prefix waits in
// `ahead` and joins the prefix when the gap before it fills, so the prefix
// is always contiguous and exact (what a resume may skip).
//
//   PrefixTracker t;
//   t.Done(4096, 4096);   // prefix() == 0: bytes 0..4095 are not done
//   t.Done(0, 4096);      // prefix() == 8192, written() == 8192
#pragma once

#include <cstdint>
#include <map>

#pragma GCC visibility push(hidden)
namespace cmb::internal {

class PrefixTracker {
 public:
  // Bytes [offset, offset + bytes) are written; each piece is reported once.
  void Done(uint64_t offset, uint64_t bytes) {
    written_ += bytes;
    ahead_[offset] = bytes;
    for (auto it = ahead_.begin(); it != ahead_.end() && it->first == prefix_; it = ahead_.erase(it))
      prefix_ += it->second;
  }
  uint64_t prefix() const { return prefix_; }    // contiguous from 0
  uint64_t written() const { return written_; }  // all pieces, also beyond the prefix

 private:
  uint64_t prefix_ = 0, written_ = 0;
  std::map<uint64_t, uint64_t> ahead_;  // offset -> bytes, beyond the prefix
};

}  // namespace cmb::internal
#pragma GCC visibility pop
