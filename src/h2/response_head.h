// The header fields of an HTTP/2 response, built from a protocol-neutral http::Response.
#pragma once

#include <nghttp2/nghttp2.h>

#include <string_view>
#include <vector>

#include "http/message.h"

namespace mirror::h2 {

// True if the response carries no body on the wire: HEAD requests, 204 and 304 (RFC 9110 6.4.1).
bool response_has_no_body(const http::Request& req, int status);

// Fields for the HEADERS frame, in order: ":status", the handler's fields (lower-cased; pseudo and
// connection-specific fields such as connection, keep-alive, transfer-encoding, upgrade and
// proxy-connection dropped, as are values with CR, LF or NUL), then content-length when the body
// length is known, date, server and alt-svc unless the handler set them.
// - HEAD: content-length is the length the body would have (a handler-set value is kept when the
//   body itself is empty or a producer).
// - 204: no content-length. 304: the handler's content-length, if any, is kept.
std::vector<http::Header> response_fields(const http::Request& req, const http::Response& res,
                                          std::string_view date, std::string_view alt_svc);

// Fields of an interim (1xx) response: ":status" and the filtered handler fields.
std::vector<http::Header> informational_fields(int status, const http::Headers& headers);

// Trailer fields: the filtered handler fields (no pseudo-headers).
std::vector<http::Header> trailer_fields(const http::Headers& trailers);

// nghttp2's view of `fields`; valid while `fields` is (nghttp2 copies on submit).
std::vector<nghttp2_nv> to_nv(const std::vector<http::Header>& fields);

}  // namespace mirror::h2
