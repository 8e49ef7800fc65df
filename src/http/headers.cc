#include "http/headers.h"

#include <algorithm>

namespace mirror::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

bool is_connection_specific_header(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-connection" ||
         n == "transfer-encoding" || n == "upgrade";
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

void Headers::add(std::string_view name, std::string_view value) {
  fields_.push_back(Header{to_lower(name), std::string(value)});
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void Headers::set_default(std::string_view name, std::string_view value) {
  if (!has(name)) add(name, value);
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Header& h) { return iequals(h.name, name); });
}

const std::string* Headers::get(std::string_view name) const {
  for (const auto& h : fields_) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string_view Headers::get_or(std::string_view name, std::string_view fallback) const {
  const auto* v = get(name);
  return v ? std::string_view(*v) : fallback;
}

size_t Headers::count(std::string_view name) const {
  return static_cast<size_t>(
      std::count_if(fields_.begin(), fields_.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

std::string Headers::joined(std::string_view name) const {
  std::string out;
  for (const auto& h : fields_) {
    if (!iequals(h.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += h.value;
  }
  return out;
}

}  // namespace mirror::http
