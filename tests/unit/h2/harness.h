// Test harness for h2::Session without sockets: the server session writes into a fake transport,
// and an in-process nghttp2 CLIENT session talks to it, bytes looped back by pump().
#pragma once

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "h2/session.h"
#include "http/exchange.h"

namespace mirror::h2::testing {

class FakeTransport final : public net::StreamTransport {
 public:
  void write(std::span<const uint8_t> data) override {
    EXPECT_FALSE(closed) << "write after close";
    out.insert(out.end(), data.begin(), data.end());
    ++writes;
  }
  size_t pending_write_bytes() const override { return out.size(); }
  void want_write() override { ++want_write_calls; }
  void pause_reading() override {
    paused = true;
    ++pauses;
  }
  void resume_reading() override { paused = false; }
  void set_timeout(double seconds) override { timeout = seconds; }
  void close(bool graceful) override {
    closed = true;
    closed_gracefully = graceful;
  }
  const std::string& peer() const override { return peer_; }
  bool is_tls() const override { return true; }

  std::vector<uint8_t> out;  // bytes the client has not read yet
  size_t writes = 0;
  int want_write_calls = 0;
  int pauses = 0;
  bool paused = false;
  double timeout = 0;
  bool closed = false;
  bool closed_gracefully = false;

 private:
  std::string peer_ = "192.0.2.7:40001";
};

// Records every exchange the session hands over; `on_request` decides what to do with it.
class RecordingHandler final : public http::Handler {
 public:
  void handle(std::shared_ptr<http::Exchange> exchange) override {
    exchanges.push_back(exchange);
    auto index = completions.size();
    completions.emplace_back();
    exchange->on_complete([this, index](const http::Completion& c) {
      ++completions[index].count;
      completions[index].c = c;
    });
    if (on_request) on_request(exchange);
  }
  struct Recorded {
    int count = 0;  // how often the completion fired (must end as exactly 1)
    http::Completion c;
  };
  std::function<void(std::shared_ptr<http::Exchange>)> on_request;
  std::vector<std::shared_ptr<http::Exchange>> exchanges;
  std::deque<Recorded> completions;
};

inline http::Response text_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.set("content-type", "text/plain");
  r.body = std::move(body);
  return r;
}

// What the client saw on one stream.
struct ClientStream {
  int status = 0;
  std::vector<int> informational;  // 1xx statuses, in order
  http::Headers headers;
  http::Headers trailers;
  std::string body;
  int data_frames = 0;
  bool end_stream_on_headers = false;
  bool closed = false;
  uint32_t error_code = 0;  // from on_stream_close
  bool rst_received = false;
  uint32_t rst_code = 0;
  // request body being sent
  std::string upload;
  size_t upload_pos = 0;
  http::Headers upload_trailers;
  bool in_trailers = false;
};

class Client {
 public:
  Client() {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Client::begin_headers_cb);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Client::header_cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Client::frame_recv_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Client::data_chunk_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Client::stream_close_cb);
    nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() { nghttp2_session_del(session_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Submits a request; returns its stream id (<= 0 on failure).
  int32_t request(const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& extra = {},
                  const std::string* body = nullptr, const http::Headers* trailers = nullptr) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", method}, {":scheme", "https"}, {":authority", "example.com"}, {":path", path}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                     n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    auto state = std::make_unique<ClientStream>();
    nghttp2_data_provider provider{};
    if (body) {
      state->upload = *body;
      if (trailers) state->upload_trailers = *trailers;
      provider.source.ptr = state.get();
      provider.read_callback = &Client::read_cb;
    }
    int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                        body ? &provider : nullptr, state.get());
    if (id > 0) streams_[id] = std::move(state);
    return id;
  }

  ClientStream& stream(int32_t id) {
    auto& s = streams_[id];
    if (!s) s = std::make_unique<ClientStream>();
    return *s;
  }
  bool has_stream(int32_t id) const { return streams_.count(id) != 0; }
  nghttp2_session* raw() { return session_; }

  // Everything the client wants to send now.
  std::vector<uint8_t> output() {
    std::vector<uint8_t> out;
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.insert(out.end(), data, data + n);
    }
    return out;
  }
  void input(const std::vector<uint8_t>& data) {
    if (data.empty()) return;
    ssize_t n = nghttp2_session_mem_recv(session_, data.data(), data.size());
    if (n < 0) recv_error = static_cast<int>(n);
  }

  bool goaway = false;
  int goaways = 0;
  int32_t goaway_last_stream_id = -1;
  uint32_t goaway_error = 0;
  int recv_error = 0;

 private:
  static Client& self(void* user) { return *static_cast<Client*>(user); }

  static int begin_headers_cb(nghttp2_session*, const nghttp2_frame* f, void* user) {
    auto& s = self(user).stream(f->hd.stream_id);
    s.in_trailers = s.status >= 200;
    return 0;
  }
  static int header_cb(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto& s = self(user).stream(f->hd.stream_id);
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int status = std::stoi(v);
      if (status < 200) {
        s.informational.push_back(status);
      } else {
        s.status = status;
      }
    } else if (s.in_trailers) {
      s.trailers.add(n, v);
    } else if (s.status >= 200) {
      s.headers.add(n, v);
    }
    return 0;
  }
  static int frame_recv_cb(nghttp2_session*, const nghttp2_frame* f, void* user) {
    auto& c = self(user);
    if (f->hd.type == NGHTTP2_GOAWAY) {
      c.goaway = true;
      ++c.goaways;
      c.goaway_last_stream_id = f->goaway.last_stream_id;
      c.goaway_error = f->goaway.error_code;
    } else if (f->hd.type == NGHTTP2_RST_STREAM) {
      auto& s = c.stream(f->hd.stream_id);
      s.rst_received = true;
      s.rst_code = f->rst_stream.error_code;
    } else if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      auto& s = c.stream(f->hd.stream_id);
      if (!s.in_trailers) s.end_stream_on_headers = true;
    } else if (f->hd.type == NGHTTP2_DATA && f->hd.length > 0) {
      ++c.stream(f->hd.stream_id).data_frames;
    }
    return 0;
  }
  static int data_chunk_cb(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                           void* user) {
    self(user).stream(id).body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int stream_close_cb(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
    auto& s = self(user).stream(id);
    s.closed = true;
    s.error_code = error_code;
    return 0;
  }
  static ssize_t read_cb(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                         uint32_t* flags, nghttp2_data_source* source, void*) {
    auto& s = *static_cast<ClientStream*>(source->ptr);
    size_t n = std::min(length, s.upload.size() - s.upload_pos);
    memcpy(buf, s.upload.data() + s.upload_pos, n);
    s.upload_pos += n;
    if (s.upload_pos == s.upload.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!s.upload_trailers.empty()) {
        std::vector<nghttp2_nv> nva;
        for (const auto& h : s.upload_trailers) {
          nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(h.name.data())),
                         reinterpret_cast<uint8_t*>(const_cast<char*>(h.value.data())),
                         h.name.size(), h.value.size(), NGHTTP2_NV_FLAG_NONE});
        }
        nghttp2_submit_trailer(session, id, nva.data(), nva.size());
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
    return static_cast<ssize_t>(n);
  }

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<ClientStream>> streams_;
};

// A server session, its transport and handler, and a client, wired together.
class Harness {
 public:
  explicit Harness(Options opts = {}) : opts(std::move(opts)) {}

  void start() {
    session = std::make_unique<Session>(transport, handler, opts);
    session->start();
  }

  // Moves bytes both ways until neither side has anything to say. The client reads at most
  // `client_read_limit` bytes per round (0: everything), which lets the server's backpressure
  // show. Returns the number of rounds.
  int pump(size_t client_read_limit = 0, int max_rounds = 100000) {
    int rounds = 0;
    for (; rounds < max_rounds; ++rounds) {
      bool moved = false;
      auto out = client.output();
      to_server.insert(to_server.end(), out.begin(), out.end());
      if (!to_server.empty() && !transport.paused && !transport.closed && !server_failed) {
        std::vector<uint8_t> chunk;
        chunk.swap(to_server);
        moved = true;
        if (!session->on_data(chunk)) server_failed = true;
      }
      max_pending = std::max(max_pending, transport.out.size());
      if (!transport.out.empty()) {
        size_t n = transport.out.size();
        if (client_read_limit > 0) n = std::min(n, client_read_limit);
        std::vector<uint8_t> in(transport.out.begin(), transport.out.begin() + n);
        transport.out.erase(transport.out.begin(), transport.out.begin() + n);
        client.input(in);
        moved = true;
        if (!transport.closed && !server_failed) session->on_writable();
        max_pending = std::max(max_pending, transport.out.size());
      }
      if (!moved) break;
    }
    return rounds;
  }

  Options opts;
  FakeTransport transport;
  RecordingHandler handler;
  std::unique_ptr<Session> session;
  Client client;
  std::vector<uint8_t> to_server;
  bool server_failed = false;  // on_data returned false (the transport would close)
  size_t max_pending = 0;
};

// A body produced over time: read() hands out queued chunks, "pending" while the queue is empty.
struct ProducerState {
  std::deque<std::string> chunks;
  bool eof = false;
  int reads = 0;
  int aborts = 0;
};

class QueueProducer final : public http::BodyProducer {
 public:
  explicit QueueProducer(std::shared_ptr<ProducerState> state) : state_(std::move(state)) {}
  ReadResult read(std::span<uint8_t> out) override {
    ++state_->reads;
    ReadResult r;
    while (!state_->chunks.empty() && r.n < out.size()) {
      auto& front = state_->chunks.front();
      size_t n = std::min(front.size(), out.size() - r.n);
      memcpy(out.data() + r.n, front.data(), n);
      r.n += n;
      front.erase(0, n);
      if (front.empty()) state_->chunks.pop_front();
    }
    r.eof = state_->chunks.empty() && state_->eof;
    r.pending = !r.eof && r.n == 0;
    return r;
  }
  void on_abort() override { ++state_->aborts; }

 private:
  std::shared_ptr<ProducerState> state_;
};

// Raw client frames, for traffic a well-behaved nghttp2 client would not send.
inline std::vector<uint8_t> frame(uint8_t type, uint8_t flags, int32_t stream_id,
                                  std::span<const uint8_t> payload = {}) {
  std::vector<uint8_t> f = {static_cast<uint8_t>(payload.size() >> 16),
                            static_cast<uint8_t>(payload.size() >> 8),
                            static_cast<uint8_t>(payload.size()),
                            type,
                            flags,
                            static_cast<uint8_t>(stream_id >> 24),
                            static_cast<uint8_t>(stream_id >> 16),
                            static_cast<uint8_t>(stream_id >> 8),
                            static_cast<uint8_t>(stream_id)};
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

inline std::vector<uint8_t> preface() {
  std::string_view magic = NGHTTP2_CLIENT_MAGIC;
  std::vector<uint8_t> out(magic.begin(), magic.end());
  auto settings = frame(NGHTTP2_SETTINGS, 0, 0);
  out.insert(out.end(), settings.begin(), settings.end());
  return out;
}

struct SeenFrame {
  uint8_t type;
  int32_t stream_id;
  std::vector<uint8_t> payload;
};

inline std::vector<SeenFrame> parse_server_frames(const std::vector<uint8_t>& bytes) {
  std::vector<SeenFrame> frames;
  size_t pos = 0;
  while (pos + 9 <= bytes.size()) {
    size_t len = (size_t{bytes[pos]} << 16) | (size_t{bytes[pos + 1]} << 8) | bytes[pos + 2];
    if (pos + 9 + len > bytes.size()) break;
    int32_t id = static_cast<int32_t>(((bytes[pos + 5] & 0x7f) << 24) | (bytes[pos + 6] << 16) |
                                      (bytes[pos + 7] << 8) | bytes[pos + 8]);
    frames.push_back(
        {bytes[pos + 3], id,
         std::vector<uint8_t>(bytes.begin() + pos + 9, bytes.begin() + pos + 9 + len)});
    pos += 9 + len;
  }
  return frames;
}

inline uint32_t be32(const std::vector<uint8_t>& p, size_t at) {
  return (uint32_t{p[at]} << 24) | (uint32_t{p[at + 1]} << 16) | (uint32_t{p[at + 2]} << 8) |
         p[at + 3];
}

}  // namespace mirror::h2::testing
