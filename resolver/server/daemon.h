// resolverd's entry point: command line, configuration, start-up and shutdown.
#pragma once

namespace rsv {
int daemon_main(int argc, char **argv);
}
