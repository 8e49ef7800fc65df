// JSON string escaping for the few places that build JSON by hand (log lines, protocol-level
// error bodies) without pulling a JSON library below the web layer.
#pragma once

#include <string>
#include <string_view>

namespace mirror {

// Appends s as a quoted JSON string ("..." with \", \\, \n, \r, \t and \u00XX escapes).
void append_json_string(std::string& out, std::string_view s);

}  // namespace mirror
