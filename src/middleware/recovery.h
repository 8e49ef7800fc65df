// Outermost middleware: the one `catch` on the request path (DESIGN.md). An exception from the
// rest of the chain is logged with the request id and, if nothing was sent yet, answered with
// 500 INTERNAL_ERROR; the worker keeps serving.
#pragma once

#include "web/context.h"

namespace mirror::middleware {

class Recovery : public web::Middleware {
 public:
  void handle(web::Context& ctx, const web::Next& next) override;
};

}  // namespace mirror::middleware
