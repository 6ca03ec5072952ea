// Fuzz target: the byte sources of `mailwarden logs` (plain, gzip, zstd, detected from the
// first bytes) over arbitrary data: corrupt or truncated compressed input must end in an error
// naming the input, never a crash, a hang or a read past a buffer.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "logs/input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t off = 0;
  while (off < size) {
    const auto n = ::write(fd, data + off, size - off);
    if (n <= 0) {
      ::close(fd);
      return 0;
    }
    off += static_cast<std::size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  auto src = mw::logs::open_byte_source(fd, "fuzz-input");
  if (!src) return 0;
  char buf[4096];
  // Decoded output is bounded: a decompression bomb must not run the target out of memory.
  std::uint64_t total = 0;
  for (;;) {
    auto n = (*src)->read(buf, sizeof buf);
    if (!n) {
      if ((*src)->consumed() > size) std::abort();
      break;
    }
    if (*n == 0) break;
    total += *n;
    if (total > (64u << 20)) break;
  }
  return 0;
}
