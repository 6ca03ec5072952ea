// write_file_atomic (temp file, fsync, rename, fsync of the directory) and bounded read_file.
#include "core/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mw {
namespace {

std::string quoted(const std::filesystem::path& p) {
  return "'" + p.string() + "'";
}

Error os_error(std::string_view what, const std::filesystem::path& p, int err) {
  return Error{std::string(what) + " " + quoted(p) + ": " + std::strerror(err)};
}

int close_checked(int fd) {
  // Linux closes the descriptor even when close() reports EINTR: never retry.
  return ::close(fd) == 0 || errno == EINTR ? 0 : errno;
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  if (path.empty() || !path.has_filename()) {
    return Error{"cannot write " + quoted(path) + ": not a file name"};
  }
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";

  // A hidden name next to the target: same file system, so rename() is atomic.
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);  // O_CREAT | O_EXCL, mode 0600
  if (fd < 0) return os_error("cannot create a temporary file for", path, errno);
  const std::filesystem::path tmp(name.data());

  auto fail = [&](std::string_view what, int err) -> Status {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return os_error(what, path, err);
  };

  // The mode is applied exactly, without the umask: the caller asked for it.
  if (::fchmod(fd, mode) != 0) return fail("cannot set the mode of", errno);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync", errno);
  int close_err = close_checked(fd);
  fd = -1;
  if (close_err != 0) return fail("cannot close", close_err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename into place", errno);

  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return os_error("cannot open the directory of", path, errno);
  int sync_err = ::fsync(dfd) == 0 ? 0 : errno;
  ::close(dfd);
  // Some file systems cannot fsync a directory; the content is in place all the same.
  if (sync_err != 0 && sync_err != EINVAL && sync_err != EROFS) {
    return os_error("cannot fsync the directory of", path, sync_err);
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open", path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) return os_error("cannot read", path, EISDIR);
  auto limit_error = [&](std::string_view size) {
    return Error{"cannot read " + quoted(path) + ": " + std::string(size) +
                 " exceeds the limit of " + std::to_string(max_bytes) + " bytes"};
  };
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > max_bytes) {
    return limit_error(std::to_string(st.st_size) + " bytes");
  }

  // st_size is only a hint (/proc files say 0, files grow): the bound is enforced on the bytes.
  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot read", path, errno);
    }
    if (n == 0) break;
    if (static_cast<std::size_t>(n) > max_bytes - text.size()) {
      return limit_error("its content");
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace mw
