#include "web/context.h"

namespace mirror::web {

Context::Context(std::shared_ptr<http::Exchange> exchange)
    : exchange_(std::move(exchange)), start_(std::chrono::steady_clock::now()) {}

void Context::send() {
  if (sent_) return;
  // Take the hooks out first: if one throws, the recovery middleware's send() must not run it
  // (or the ones already run) again.
  auto hooks = std::move(before_send_);
  before_send_.clear();
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)(*this);
  if (sent_) return;  // a hook answered by itself
  sent_ = true;
  sent_status_ = response_.status;
  exchange_->respond(std::move(response_));
}

std::string_view Context::param(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return {};
}

void Context::set_param(std::string name, std::string value) {
  for (auto& [k, v] : params_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  params_.emplace_back(std::move(name), std::move(value));
}

void Context::set_value(std::string key, std::string value) {
  for (auto& [k, v] : values_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  values_.emplace_back(std::move(key), std::move(value));
}

const std::string* Context::value(std::string_view key) const {
  for (const auto& [k, v] : values_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Context::finish(const http::Completion& c) {
  auto hooks = std::move(on_finish_);
  on_finish_.clear();
  for (auto& fn : hooks) fn(*this, c);
}

}  // namespace mirror::web
