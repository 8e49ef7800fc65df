#include "h1/exchange.h"

#include <utility>

#include "h1/session.h"

namespace mirror::h1 {

void Exchange::respond(http::Response response) {
  if (responded_) return;
  responded_ = true;
  if (session_ != nullptr) session_->on_respond(std::move(response));
}

void Exchange::resume() {
  if (session_ != nullptr) session_->on_resume();
}

void Exchange::send_informational(int status, const http::Headers& headers) {
  if (session_ != nullptr && !responded_) session_->on_informational(status, headers);
}

}  // namespace mirror::h1
