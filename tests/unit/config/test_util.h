// Helpers for the config tests: a scratch directory, writing files, and the source tree's root.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/load.h"

namespace mirror::config::testing {

// The repository root, found from this file's own path (tests/unit/config/test_util.h).
inline std::filesystem::path source_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh directory under /tmp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mirror-config-XXXXXX");
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `text` to `name` (creating parent directories) and returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    auto full = path_ / name;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full) << text;
    return full.string();
  }

 private:
  std::filesystem::path path_;
};

// Loads YAML text (written to a temp file) with no environment and no overrides.
inline Result<Config> load_yaml(const TempDir& dir, const std::string& yaml) {
  return load({.file = dir.write("mirror.yaml", yaml)});
}

}  // namespace mirror::config::testing
