// Safe file lookup beneath a static root: anything that could escape the root is "not found".
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace mirror::app {

// Turns the raw (still percent-encoded) request path below the static prefix into a relative
// file path, or nullopt when it must be refused: encoded dots, slashes, backslashes or NUL
// (%2e %2f %5c %00, any case), raw backslashes or NUL, malformed escapes, and after decoding
// any "", "." or ".." segment (so no leading, doubled or trailing '/', no directory itself).
std::optional<std::string> sanitize_static_path(std::string_view raw);

// A regular file opened beneath the root, with its stat.
struct OpenedFile {
  UniqueFd fd;
  struct stat st {};
};

// An open static root directory. open_file() resolves beneath it with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux >= 5.6), else with realpath() and a
// prefix check; either way a symlink pointing outside the root is refused while one pointing
// inside works (also an absolute one: openat2 refuses those outright, so they go through the
// realpath check).
class StaticRoot {
 public:
  // Error codes of open_file(): "not_found" (no such file, not a regular file, escapes, no
  // permission) or "io" (anything else, e.g. out of descriptors).
  static Result<StaticRoot> open(const std::string& root, bool allow_openat2 = true);

  Result<OpenedFile> open_file(const std::string& relative) const;
  const std::string& real_root() const { return real_root_; }
  bool uses_openat2() const { return use_openat2_; }

 private:
  Result<UniqueFd> open_beneath(const std::string& relative) const;
  Result<UniqueFd> open_checked_realpath(const std::string& relative) const;

  UniqueFd dir_;
  std::string real_root_;  // realpath of the root, no trailing '/' (except "/")
  bool use_openat2_ = true;
};

}  // namespace mirror::app
