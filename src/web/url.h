// URL helpers shared by the router and handlers.
#pragma once

#include <string>
#include <string_view>

namespace mirror::web {

// Decodes %XX escapes (RFC 3986 §2.1). '+' is left alone (it means space only in form bodies and
// query strings). Returns false, leaving `out` unspecified, on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace mirror::web
