// unique_ptr with a C library's delete function: CHandle<gnutls_session_int, gnutls_deinit>.
#pragma once

#include <memory>

namespace mirror {

template <auto Fn>
struct CDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    if (p) Fn(p);
  }
};

template <typename T, auto Fn>
using CHandle = std::unique_ptr<T, CDeleter<Fn>>;

}  // namespace mirror
