// Header fields: an ordered list of (name, value) pairs. Names are stored lower-case (h2/h3 require
// it; h1 parsing lower-cases them), lookups are case-insensitive.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mirror::http {

struct Header {
  std::string name;  // lower-case
  std::string value;
};

class Headers {
 public:
  using const_iterator = std::vector<Header>::const_iterator;

  // Appends a field (keeps existing ones with the same name).
  void add(std::string_view name, std::string_view value);
  // Replaces every field with this name by one field.
  void set(std::string_view name, std::string_view value);
  // Sets only if absent.
  void set_default(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  // First value, or nullptr.
  const std::string* get(std::string_view name) const;
  std::string_view get_or(std::string_view name, std::string_view fallback = {}) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }
  size_t count(std::string_view name) const;
  // All values joined with ", " (RFC 9110 §5.3), e.g. for Accept-Encoding spread over lines.
  std::string joined(std::string_view name) const;

  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  void reserve(size_t n) { fields_.reserve(n); }

 private:
  std::vector<Header> fields_;
};

bool iequals(std::string_view a, std::string_view b);
// Fields that only make sense for one HTTP/1.1 hop (connection, keep-alive, proxy-connection,
// transfer-encoding, upgrade): malformed in HTTP/2 and HTTP/3 (RFC 9113 §8.2.2, RFC 9114 §4.2).
// Takes a lower-case name.
bool is_connection_specific_header(std::string_view lower_name);
std::string to_lower(std::string_view s);

}  // namespace mirror::http
