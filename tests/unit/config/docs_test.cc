// Keeps docs/configuration.md and config/mirror.yaml in step with the key table.
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>

#include "config/keys.h"
#include "config/load.h"
#include "test_util.h"

namespace mirror::config {
namespace {

using testing::read_text;
using testing::source_root;

// Every leaf path in a YAML mapping: {"server.http_port", "server.limits.max_body_size", ...}.
void collect_paths(const YAML::Node& node, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& entry : node) {
    std::string path = prefix.empty() ? entry.first.Scalar() : prefix + "." + entry.first.Scalar();
    if (entry.second.IsMap()) {
      collect_paths(entry.second, path, out);
    } else {
      out.insert(path);
    }
  }
}

TEST(Docs, EveryKeyHasARowWithItsTypeAndDefault) {
  std::string docs = read_text(source_root() / "docs" / "configuration.md");
  ASSERT_FALSE(docs.empty()) << "docs/configuration.md not found under " << source_root();
  for (const KeyInfo& key : key_table()) {
    std::string row = "| `" + key.path + "` | " + key.type + " | `" + key.default_value + "` |";
    EXPECT_NE(docs.find(row), std::string::npos)
        << "docs/configuration.md lacks (or has a stale) row for " << key.path << "; expected:\n"
        << row << " " << key.description << " |";
  }
}

TEST(Docs, EveryKeyRowNamesAKnownKey) {
  std::string docs = read_text(source_root() / "docs" / "configuration.md");
  std::set<std::string> known;
  for (const KeyInfo& key : key_table()) known.insert(key.path);
  std::regex row(R"(\n\| `([a-z0-9_.]+)` \|)");
  int rows = 0;
  for (auto it = std::sregex_iterator(docs.begin(), docs.end(), row); it != std::sregex_iterator();
       ++it) {
    ++rows;
    EXPECT_TRUE(known.count((*it)[1].str())) << "docs row for a key that does not exist: "
                                             << (*it)[1].str();
  }
  EXPECT_EQ(rows, static_cast<int>(key_table().size())) << "each key should have exactly one row";
}

TEST(MirrorYaml, ListsEveryKey) {
  YAML::Node root = YAML::LoadFile((source_root() / "config" / "mirror.yaml").string());
  std::set<std::string> present;
  collect_paths(root, "", present);
  for (const KeyInfo& key : key_table()) {
    EXPECT_TRUE(present.count(key.path)) << "config/mirror.yaml lacks " << key.path;
  }
}

TEST(MirrorYaml, LoadsCleanlyAndEqualsTheDefaults) {
  // state_dir depends on the environment; the same env gives the same resolved value.
  Environment env = {{"HOME", "/home/someone"}};
  auto from_file = load({.file = (source_root() / "config" / "mirror.yaml").string(), .env = env});
  ASSERT_TRUE(from_file.ok()) << from_file.error().message;
  auto defaults = load({.env = env});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(dump_yaml(*from_file, true), dump_yaml(*defaults, true));
  EXPECT_TRUE(from_file->notes.empty());
}

}  // namespace
}  // namespace mirror::config
