#include "app/static_path.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "web/url.h"

namespace mirror::app {
namespace {

// True if raw holds "%<hi><lo>" (lo matched case-insensitively).
bool has_encoded(std::string_view raw, char hi, char lo) {
  for (size_t i = 0; i + 3 <= raw.size(); ++i) {
    if (raw[i] == '%' && raw[i + 1] == hi && (raw[i + 2] | 0x20) == lo) return true;
  }
  return false;
}

Error not_found(std::string_view what) { return make_error("not_found", std::string(what)); }

bool is_not_found_errno(int e) {
  switch (e) {
    case ENOENT:
    case ENOTDIR:
    case EXDEV:  // openat2: the path escapes the root
    case ELOOP:  // too many links, or a magic link
    case EACCES:
    case EPERM:
    case ENAMETOOLONG:
    case ENXIO:  // a socket or a FIFO without writer
      return true;
    default:
      return false;
  }
}

Result<UniqueFd> open_result(int fd, std::string_view relative) {
  if (fd >= 0) return UniqueFd(fd);
  int e = errno;
  if (is_not_found_errno(e)) return not_found(fmt::format("{}: {}", relative, std::strerror(e)));
  return make_error("io", fmt::format("open {}: {}", relative, std::strerror(e)));
}

// O_NONBLOCK: opening a FIFO planted under the root must not block the worker (it is then
// refused as not a regular file); it has no effect on pread of regular files.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

}  // namespace

std::optional<std::string> sanitize_static_path(std::string_view raw) {
  if (raw.find('\\') != std::string_view::npos || raw.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  if (has_encoded(raw, '2', 'e') || has_encoded(raw, '2', 'f') || has_encoded(raw, '5', 'c') ||
      has_encoded(raw, '0', '0')) {
    return std::nullopt;
  }
  std::string decoded;
  if (!web::percent_decode(raw, decoded)) return std::nullopt;
  if (decoded.find('\0') != std::string::npos || decoded.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::string_view rest = decoded;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return std::nullopt;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return decoded;
}

Result<StaticRoot> StaticRoot::open(const std::string& root, bool allow_openat2) {
  StaticRoot r;
  char resolved[PATH_MAX];
  if (::realpath(root.c_str(), resolved) == nullptr) {
    return make_error("static.root", fmt::format("static root {}: {}", root, std::strerror(errno)));
  }
  r.real_root_ = resolved;
  r.dir_.reset(::open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!r.dir_) {
    return make_error("static.root", fmt::format("static root {}: {}", root, std::strerror(errno)));
  }
  r.use_openat2_ = allow_openat2;
  if (allow_openat2) {
    // Probe once: old kernels (and some seccomp filters) answer ENOSYS.
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH;
    long fd = ::syscall(SYS_openat2, r.dir_.get(), ".", &how, sizeof how);
    if (fd >= 0) {
      ::close(static_cast<int>(fd));
    } else if (errno == ENOSYS) {
      r.use_openat2_ = false;
    }
  }
  return r;
}

Result<OpenedFile> StaticRoot::open_file(const std::string& relative) const {
  Result<UniqueFd> fd = use_openat2_ ? open_beneath(relative) : open_checked_realpath(relative);
  if (!fd) return fd.error();
  OpenedFile f;
  f.fd = std::move(*fd);
  if (::fstat(f.fd.get(), &f.st) != 0) {
    return make_error("io", fmt::format("fstat {}: {}", relative, std::strerror(errno)));
  }
  if (!S_ISREG(f.st.st_mode)) return not_found(fmt::format("{}: not a regular file", relative));
  return f;
}

Result<UniqueFd> StaticRoot::open_beneath(const std::string& relative) const {
  struct open_how how {};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir_.get(), relative.c_str(), &how, sizeof how);
  // RESOLVE_BENEATH refuses every absolute symlink, even one pointing back inside the root (deploy
  // tools often link that way), and reports it like an escape: let the realpath check decide.
  if (fd < 0 && errno == EXDEV) return open_checked_realpath(relative);
  return open_result(static_cast<int>(fd), relative);
}

Result<UniqueFd> StaticRoot::open_checked_realpath(const std::string& relative) const {
  std::string path = real_root_ == "/" ? "/" + relative : real_root_ + "/" + relative;
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return open_result(-1, relative);
  std::string_view r(resolved);
  bool beneath = real_root_ == "/" ||
                 (r.size() > real_root_.size() && r.substr(0, real_root_.size()) == real_root_ &&
                  r[real_root_.size()] == '/');
  if (!beneath) return not_found(fmt::format("{}: outside the static root", relative));
  // O_NOFOLLOW narrows (does not close) the window between realpath() and open().
  return open_result(::open(resolved, kOpenFlags | O_NOFOLLOW), relative);
}

}  // namespace mirror::app
