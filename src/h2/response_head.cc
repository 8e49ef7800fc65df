#include "h2/response_head.h"

#include <spdlog/spdlog.h>

#include <string>

namespace mirror::h2 {
namespace {

// CR, LF and NUL are never valid in a field (RFC 9113 8.2.1); a peer that turns our response
// into HTTP/1.1 could otherwise be tricked into splitting it.
bool has_forbidden_char(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool has_upper(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// Appends the handler's fields that may go on the wire, names lower-cased. `skip` names one more
// field to leave out (empty: none).
void append_fields(std::vector<http::Header>& out, const http::Headers& fields,
                   std::string_view skip = {}) {
  for (const auto& field : fields) {
    if (field.name.empty() || field.name[0] == ':' || http::is_connection_specific_header(field.name)) continue;
    if (!skip.empty() && field.name == skip) continue;
    if (has_forbidden_char(field.name) || has_forbidden_char(field.value)) {
      spdlog::debug("h2: dropping field {} with CR/LF/NUL", field.name);
      continue;
    }
    if (has_upper(field.name)) {
      out.push_back({http::to_lower(field.name), field.value});
    } else {
      out.push_back(field);
    }
  }
}

}  // namespace

bool response_has_no_body(const http::Request& req, int status) {
  return req.method == http::Method::kHead || status == 204 || status == 304;
}

std::vector<http::Header> response_fields(const http::Request& req, const http::Response& res,
                                          std::string_view date, std::string_view alt_svc) {
  std::vector<http::Header> out;
  out.reserve(res.headers.size() + 5);
  out.push_back({":status", std::to_string(res.status)});

  // Whether we state the body length ourselves (replacing whatever the handler set).
  const int64_t length = res.content_length();
  bool state_length = false;
  if (res.status != 204 && res.status != 304) {
    state_length = req.method == http::Method::kHead ? length > 0 : length >= 0;
  }
  const bool drop_handler_length = state_length || res.status == 204;
  append_fields(out, res.headers, drop_handler_length ? "content-length" : "");

  if (state_length) out.push_back({"content-length", std::to_string(length)});
  if (!res.headers.has("date")) out.push_back({"date", std::string(date)});
  if (!res.headers.has("server")) out.push_back({"server", "mirror"});
  if (!alt_svc.empty() && !res.headers.has("alt-svc")) {
    out.push_back({"alt-svc", std::string(alt_svc)});
  }
  return out;
}

std::vector<http::Header> informational_fields(int status, const http::Headers& headers) {
  std::vector<http::Header> out;
  out.reserve(headers.size() + 1);
  out.push_back({":status", std::to_string(status)});
  append_fields(out, headers);
  return out;
}

std::vector<http::Header> trailer_fields(const http::Headers& trailers) {
  std::vector<http::Header> out;
  out.reserve(trailers.size());
  append_fields(out, trailers);
  return out;
}

std::vector<nghttp2_nv> to_nv(const std::vector<http::Header>& fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const auto& f : fields) {
    // nghttp2's struct is not const-correct; it only reads (and copies) these bytes.
    nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(f.name.data())),
                             reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())),
                             f.name.size(), f.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

}  // namespace mirror::h2
