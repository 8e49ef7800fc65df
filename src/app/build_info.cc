// The only file compiled with the build metadata defines (see CMakeLists.txt), so a new commit
// recompiles this file alone.
#include "app/version.h"

#ifndef MIRROR_VERSION
#define MIRROR_VERSION "dev"
#endif
#ifndef MIRROR_GIT_COMMIT
#define MIRROR_GIT_COMMIT "unknown"
#endif
#ifndef MIRROR_BUILD_TIME
#define MIRROR_BUILD_TIME "unknown"
#endif

namespace mirror::app {

BuildInfo build_info() { return {MIRROR_VERSION, MIRROR_GIT_COMMIT, MIRROR_BUILD_TIME}; }

}  // namespace mirror::app
