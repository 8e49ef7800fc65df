#include "h2/stream.h"

#include <spdlog/spdlog.h>

#include <variant>

#include "h2/response_head.h"
#include "h2/session.h"

namespace mirror::h2 {
namespace {

ssize_t read_body_cb(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                     nghttp2_data_source* source, void*) noexcept {
  return static_cast<Stream*>(source->ptr)->read_body(buf, length, data_flags);
}

void abort_producer(http::Body& body) {
  if (auto* p = std::get_if<std::unique_ptr<http::BodyProducer>>(&body); p && *p) (*p)->on_abort();
}

// A producer that calls resume() from inside its own read() and still answers "pending" is read
// again at once, a few times; past that it waits for a resume() from outside.
constexpr int kMaxImmediateRereads = 8;

}  // namespace

Stream::Stream(Session* session, int32_t id) : session_(session), id_(id) {
  request_.protocol = http::Protocol::kHttp2;
}

void Stream::respond(http::Response response) {
  if (responded_) return;
  responded_ = true;
  if (!session_ || session_->closed_) {  // the peer is gone: a producer must not wait to be read
    abort_producer(response.body);
    return;
  }
  session_->submit_response(*this, std::move(response));
}

void Stream::resume() {
  if (!session_ || !reader_ || body_eof_) return;
  if (in_read_) {
    resume_requested_ = true;
  } else if (deferred_) {
    session_->resume_stream(*this);
  }
  // Otherwise nghttp2 has not asked yet (window closed or frames queued ahead): it will pull.
}

void Stream::send_informational(int status, const http::Headers& headers) {
  if (!session_ || session_->closed_ || responded_) return;
  if (status < 100 || status > 199 || status == 101) return;  // 101 has no meaning in HTTP/2
  session_->submit_informational(*this, status, headers);
}

std::optional<nghttp2_data_provider> Stream::body_provider(bool head_only) {
  if (head_only) return std::nullopt;
  promised_length_ = response_.content_length();
  if (promised_length_ == 0 && response_.trailers.empty()) return std::nullopt;
  reader_.emplace(&response_.body);
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = read_body_cb;
  return provider;
}

ssize_t Stream::read_body(uint8_t* buf, size_t length, uint32_t* data_flags) {
  http::BodyReader::ReadResult r;
  for (int attempt = 0;; ++attempt) {
    resume_requested_ = false;
    in_read_ = true;
    r = reader_->read({buf, length});
    in_read_ = false;
    if (r.n > 0 || r.eof || !resume_requested_ || attempt == kMaxImmediateRereads) break;
  }
  if (r.n == 0 && !r.eof) {  // pending (a producer that returns nothing is treated the same)
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (!r.eof) return static_cast<ssize_t>(r.n);

  body_eof_ = true;
  if (promised_length_ >= 0 && reader_->consumed() != static_cast<uint64_t>(promised_length_)) {
    // A file shrank under us: the content-length already sent cannot be kept. RST_STREAM
    // (INTERNAL_ERROR) tells the client the body is incomplete instead of ending it short.
    spdlog::warn("h2 stream {}: body ended at {} of {} bytes", id_, reader_->consumed(),
                 promised_length_);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  if (!response_.trailers.empty()) {
    auto fields = trailer_fields(response_.trailers);
    auto nva = to_nv(fields);
    if (nghttp2_submit_trailer(session_->session_.get(), id_, nva.data(), nva.size()) == 0) {
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(r.n);
}

void Stream::finish(uint32_t error_code) {
  if (closed_) return;
  closed_ = true;
  session_ = nullptr;
  deferred_ = false;
  if (!body_eof_) abort_producer(response_.body);
  http::Completion c;
  c.status = head_sent_ ? status_ : 0;
  c.body_bytes = body_bytes_;
  c.aborted = error_code != NGHTTP2_NO_ERROR || !end_stream_sent_;
  // Release the body now (an open file, a producer that may hold this exchange) rather than when
  // the application drops its last reference.
  reader_.reset();
  response_.body = std::monostate{};
  complete(c);
}

}  // namespace mirror::h2
