// The inputs of `mailwarden logs`: which compression a file has, the order of a rotated set,
// and a streaming byte source over plain, gzip or zstd data from a file or stdin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::logs {

enum class Compression { none, gzip, zstd };
std::string_view name_of(Compression c);

// From the first bytes (gzip 1f 8b, zstd 28 b5 2f fd), never from the name: rotated files are
// often compressed under a name without a suffix, or the other way round.
Compression detect_compression(std::string_view first_bytes);

// The inputs in time order, oldest first. A rotated set with base name B (the path of the live
// file): logrotate's numbered files B.N, B.N.gz, B.N.zst (higher N is older), then its dated
// files B-YYYYMMDD[.gz|.zst] (dateext; B-YYYYMMDDHH too) in date order, then B itself. Sets
// keep the order in which the user first named one of their files; "-" (stdin) stays where it
// is. Only the names given are ordered: nothing is looked up on disk.
std::vector<std::string> order_inputs(std::vector<std::string> paths);
// The same inputs grouped: one list per rotated set (in the order of order_inputs), each
// oldest first. "-" is a set of its own.
std::vector<std::vector<std::string>> rotated_sets(std::vector<std::string> paths);

// A stream of decoded bytes: a file or stdin, plain or compressed (detected from its first
// bytes). Concatenated gzip members (`cat a.gz b.gz`, logrotate's delaycompress sets) and
// several zstd frames are read as one text. Corrupt or truncated data: everything that decodes
// before the damage is returned, then read() fails with an error naming the input and the
// byte offset in the (compressed) input.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `n` decoded bytes into `out`; 0 at the end of the data.
  virtual Result<std::size_t> read(char* out, std::size_t n) = 0;
  // Bytes consumed from the underlying file (compressed bytes for compressed data).
  virtual std::uint64_t consumed() const = 0;
  virtual Compression compression() const = 0;
};

// Takes ownership of `fd` (closed by the source) and reads it with read(2) from where it is.
// `name` is what errors call the input ("mail.log.2.gz", "stdin").
Result<std::unique_ptr<ByteSource>> open_byte_source(int fd, std::string name);
// "-" is stdin (not closed); anything else is opened read-only.
Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path);

}  // namespace mw::logs
