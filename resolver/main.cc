#include "resolver/server/daemon.h"

int main(int argc, char **argv) { return rsv::daemon_main(argc, argv); }
