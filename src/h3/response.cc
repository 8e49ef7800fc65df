// The response side of an HTTP/3 stream: header block, body pulled by nghttp3's read_data (bytes
// kept alive until acknowledged), trailers, and the Exchange the application talks to.
#include <chrono>
#include <string>
#include <vector>

#include "base/clock.h"
#include "h3/session.h"

namespace mirror::h3 {
namespace {

constexpr size_t kChunkSize = 16 * 1024;
// Copied body bytes in flight per stream before read_data waits for acknowledgements.
constexpr uint64_t kMaxUnacked = 1024 * 1024;

nghttp3_ssize read_data_cb(nghttp3_conn*, int64_t, nghttp3_vec* vec, size_t veccnt,
                           uint32_t* flags, void* ud, void* sud) noexcept {
  return static_cast<Session*>(ud)->on_read_data(static_cast<Stream*>(sud), vec, veccnt, flags);
}

nghttp3_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp3_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP3_NV_FLAG_NONE};
}

bool body_forbidden(int status) { return status == 204 || status == 304 || status < 200; }

}  // namespace

// --- Exchange ---

void Exchange::respond(http::Response response) {
  if (!stream_ || responded_) return;
  responded_ = true;
  stream_->session.respond(*stream_, std::move(response));
}

void Exchange::resume() {
  if (stream_) stream_->session.resume(*stream_);
}

void Exchange::send_informational(int status, const http::Headers& headers) {
  if (stream_ && !responded_) stream_->session.send_informational(*stream_, status, headers);
}

void Exchange::detach(const http::Completion& c) {
  stream_ = nullptr;
  complete(c);
}

// --- Session: responses ---

void Session::respond(Stream& s, http::Response response) {
  if (lost_ || !h3_ || s.response_submitted) return;
  s.response_submitted = true;
  s.response = std::move(response);
  http::Response& r = s.response;
  s.status = r.status;

  const bool no_body = s.head_request || body_forbidden(r.status);
  const int64_t length = r.content_length();
  std::string status = std::to_string(r.status);
  std::string length_str = length >= 0 ? std::to_string(length) : std::string();
  std::vector<nghttp3_nv> nva;
  nva.reserve(r.headers.size() + 4);
  nva.push_back(make_nv(":status", status));
  bool has_date = false, has_server = false, has_length = false;
  for (const auto& h : r.headers) {
    if (is_connection_specific_header(h.name)) continue;
    has_date |= h.name == "date";
    has_server |= h.name == "server";
    has_length |= h.name == "content-length";
    nva.push_back(make_nv(h.name, h.value));
  }
  if (!has_date) {
    nva.push_back(make_nv("date", current_http_date()));
  }
  if (!has_server) nva.push_back(make_nv("server", "mirror"));
  if (!has_length && length >= 0 && !body_forbidden(r.status)) {
    nva.push_back(make_nv("content-length", length_str));
  }

  nghttp3_data_reader dr{read_data_cb};
  const bool has_trailers = !r.trailers.empty() && !no_body;
  const bool send_body = !no_body && (length != 0 || has_trailers);
  if (send_body) {
    s.reader.emplace(&r.body);
  } else {
    s.body_eof = true;
    if (no_body) {
      // A body that will never be sent: let a producer release its resources.
      if (auto* p = std::get_if<std::unique_ptr<http::BodyProducer>>(&r.body)) (*p)->on_abort();
    }
  }
  int rv = nghttp3_conn_submit_response(h3_.get(), s.id, nva.data(), nva.size(),
                                        send_body ? &dr : nullptr);
  if (rv == 0 && has_trailers) {
    std::vector<nghttp3_nv> tv;
    for (const auto& h : r.trailers) tv.push_back(make_nv(h.name, h.value));
    rv = nghttp3_conn_submit_trailers(h3_.get(), s.id, tv.data(), tv.size());
  }
  if (rv != 0) {
    // The stream is gone on nghttp3's side (e.g. reset by the peer): nothing to send.
    return;
  }
  conn_.signal_write();
}

void Session::send_informational(Stream& s, int status, const http::Headers& headers) {
  if (lost_ || !h3_ || s.response_submitted || status < 100 || status > 199) return;
  std::string st = std::to_string(status);
  std::vector<nghttp3_nv> nva{make_nv(":status", st)};
  for (const auto& h : headers) {
    if (!is_connection_specific_header(h.name)) nva.push_back(make_nv(h.name, h.value));
  }
  if (nghttp3_conn_submit_info(h3_.get(), s.id, nva.data(), nva.size()) == 0) conn_.signal_write();
}

void Session::resume(Stream& s) {
  if (lost_ || !h3_) return;
  if (reading_ == &s) {  // called from inside the producer's read(): read again right away
    s.resume_requested = true;
    return;
  }
  if (!s.waiting_producer) return;
  s.waiting_producer = false;
  nghttp3_conn_resume_stream(h3_.get(), s.id);
  conn_.signal_write();
}

nghttp3_ssize Session::on_read_data(Stream* s, nghttp3_vec* vec, size_t veccnt, uint32_t* flags) {
  if (!s || !s->reader) {
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    return 0;
  }
  const bool trailers = !s->response.trailers.empty();
  auto finish = [&](size_t n) -> nghttp3_ssize {
    s->body_eof = true;
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    if (trailers) *flags |= NGHTTP3_DATA_FLAG_NO_END_STREAM;
    const int64_t promised = s->response.content_length();
    if (promised >= 0 && s->body_bytes != static_cast<uint64_t>(promised)) {
      // The body ended short of its Content-Length (a file shrank): the peer must not take the
      // truncated body as complete, so reset the stream once we are out of the write loop.
      deferred_resets_.push_back(s->id);
      if (!deferred_.active()) deferred_.start(0);
    }
    return static_cast<nghttp3_ssize>(n);
  };

  // Zero-copy for string bodies: they live in s->response until the stream closes, which is
  // after every byte was acknowledged.
  if (auto* str = std::get_if<std::string>(&s->response.body)) {
    size_t left = str->size() - s->string_sent;
    if (veccnt == 0) return 0;
    vec[0].base = reinterpret_cast<uint8_t*>(str->data() + s->string_sent);
    vec[0].len = left;
    s->string_sent += left;
    s->body_bytes += left;
    return finish(left ? 1 : 0);
  }

  size_t n = 0;
  while (n < veccnt && n < 4) {
    if (s->unacked >= kMaxUnacked) {
      if (n > 0) break;
      s->waiting_ack = true;
      return NGHTTP3_ERR_WOULDBLOCK;
    }
    BodyChunk chunk;
    chunk.data.resize(kChunkSize);
    http::BodyReader::ReadResult r;
    for (int attempt = 0; attempt < 4; ++attempt) {
      s->resume_requested = false;
      reading_ = s;
      r = s->reader->read(chunk.data);
      reading_ = nullptr;
      if (!(r.pending && r.n == 0 && s->resume_requested)) break;
    }
    if (r.n > 0) {
      chunk.data.resize(r.n);
      s->chunks.push_back(std::move(chunk));
      auto& back = s->chunks.back().data;
      vec[n].base = back.data();
      vec[n].len = back.size();
      ++n;
      s->unacked += r.n;
      s->body_bytes += r.n;
    }
    if (r.eof) return finish(n);
    if (r.pending || r.n == 0) {
      if (n > 0) break;
      s->waiting_producer = true;
      return NGHTTP3_ERR_WOULDBLOCK;
    }
  }
  return static_cast<nghttp3_ssize>(n);
}

int Session::on_acked_stream_data(Stream* s, uint64_t len) {
  if (std::holds_alternative<std::string>(s->response.body)) return 0;
  s->unacked -= std::min(s->unacked, len);
  // Free fully acknowledged chunks (acknowledgements arrive in order for a stream's bytes).
  uint64_t acked = s->chunk_front_acked + len;
  while (!s->chunks.empty() && acked >= s->chunks.front().data.size()) {
    acked -= s->chunks.front().data.size();
    s->chunks.pop_front();
  }
  s->chunk_front_acked = s->chunks.empty() ? 0 : acked;
  if (s->waiting_ack && s->unacked < kMaxUnacked / 2) {
    s->waiting_ack = false;
    nghttp3_conn_resume_stream(h3_.get(), s->id);
  }
  return 0;
}

void Session::run_deferred() {
  auto ids = std::move(deferred_resets_);
  deferred_resets_.clear();
  if (lost_) return;
  for (int64_t id : ids) {
    ngtcp2_conn_shutdown_stream(conn_.native(), id, NGHTTP3_H3_INTERNAL_ERROR);
  }
  conn_.signal_write();
}

}  // namespace mirror::h3
