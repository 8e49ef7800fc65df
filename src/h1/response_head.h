// Serializing HTTP/1.1 response heads and the JSON bodies of protocol-level errors.
#pragma once

#include <string>
#include <string_view>

#include "http/headers.h"

namespace mirror::h1 {

// Appends "HTTP/1.1 <status> <reason>\r\n".
void append_status_line(std::string& out, int status);

// Appends "name: value\r\n" per field. Fields that could split the response (a name that is not a
// token, a value with CR, LF or NUL) are dropped rather than sent.
void append_fields(std::string& out, const http::Headers& fields);


}  // namespace mirror::h1
