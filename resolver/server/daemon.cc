#include "resolver/server/daemon.h"

#include <cstdio>

namespace rsv {
int daemon_main(int, char **) {
  std::fprintf(stderr, "resolverd: not wired yet\n");
  return 1;
}
}  // namespace rsv
