// UniqueFd: the one owner of a file descriptor; closes it on destruction.
// Move-only, so an fd has exactly one owner and is closed exactly once.
//
//   absl::StatusOr<cmb::UniqueFd> fd = root.Open("/dev/ng0n1", O_RDONLY);
//   if (!fd.ok()) return fd.status();
//   ::ioctl(fd->get(), ...);          // closed when `fd` goes out of scope
//
// Threads: a move-only owner; one owner at a time.
#pragma once

#include <unistd.h>

#include <utility>

namespace cmb {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the returned fd.
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace cmb
