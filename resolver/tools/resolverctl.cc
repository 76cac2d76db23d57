// resolverctl: the command-line client of resolverd's control channel.
//
//   resolverctl [-c CONFIG | -s SOCKET] [--json] COMMAND [ARGS]
//
// It finds the socket (-s, or control.socket of the configuration given with -c or
// at the default path), sends the command line as one JSON request, and prints the
// reply: its text, or with --json its data. Every command is carried out, and its
// output written, by the daemon (resolver/server/control.h); this stays a thin client.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "resolver/config/config.h"

namespace {

constexpr const char *kDefaultConfigPath = "/etc/resolverd/resolver.yaml";
// An explain may take the whole resolution time budget, and then some.
constexpr int kReplyTimeoutMs = 120'000;

void usage(FILE *out) {
  std::fputs(
      "usage: resolverctl [-c CONFIG | -s SOCKET] [--json] COMMAND [ARGS]\n"
      "  -c CONFIG   find the socket in this configuration (default /etc/resolverd/resolver.yaml)\n"
      "  -s SOCKET   the control socket itself (default control.socket, /run/resolverd/control.sock)\n"
      "  --json      print the reply as JSON data\n"
      "commands:\n"
      "  status                       version, uptime, configuration, cache fill\n"
      "  stats                        every counter\n"
      "  flush NAME [--subtree]       forget NAME (and everything below it)\n"
      "  flush --all                  forget everything\n"
      "  reload                       re-read the configuration (as SIGHUP)\n"
      "  nta add NAME [--for TIME]    stop validating NAME and below (default 1d, at most 1w)\n"
      "  nta remove NAME              validate NAME again\n"
      "  nta list                     the negative trust anchors in force\n"
      "  log-level [LEVEL]            show or set: error, warning, info, debug, trace\n"
      "  explain NAME [TYPE] [--cd]   resolve NAME now and show every step and signature\n",
      out);
}

std::string find_socket(const std::string &config_path, bool explicit_config) {
  if (!explicit_config && access(config_path.c_str(), F_OK) != 0) return rsv::kDefaultControlSocket;
  rsv::Config config = rsv::load_config(config_path);
  if (config.control.socket.empty())
    throw std::runtime_error(config_path + ": control.socket is \"\": the control channel is off");
  return config.control.socket;
}

// Sends one request line and reads the reply line. Throws std::runtime_error.
std::string send_request(const std::string &path, const std::string &request) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::runtime_error(path + ": path too long");
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
    std::string why = std::strerror(errno);
    close(fd);
    throw std::runtime_error("cannot connect to " + path + ": " + why +
                             " (is resolverd running, and may this user open the socket?)");
  }
  std::string line = request + "\n";
  for (size_t sent = 0; sent < line.size();) {
    ssize_t n = send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      throw std::runtime_error(std::string("sending the request: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buffer[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, kReplyTimeoutMs);
    if (ready <= 0) {
      close(fd);
      throw std::runtime_error("no reply from resolverd within " + std::to_string(kReplyTimeoutMs / 1000) + " s");
    }
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
    if (!reply.empty() && reply.back() == '\n') break;
  }
  close(fd);
  if (reply.empty()) throw std::runtime_error("resolverd closed the connection without a reply");
  return reply;
}

}  // namespace

int main(int argc, char **argv) {
  std::string config_path = kDefaultConfigPath, socket_path;
  bool explicit_config = false, json = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (args.empty() && arg == "-c" && i + 1 < argc) {
      config_path = argv[++i];
      explicit_config = true;
    } else if (args.empty() && arg == "-s" && i + 1 < argc) {
      socket_path = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (args.empty() && (arg == "-h" || arg == "--help" || arg == "help")) {
      usage(stdout);
      return 0;
    } else {
      args.push_back(arg);
    }
  }
  if (args.empty()) {
    usage(stderr);
    return 2;
  }
  try {
    if (socket_path.empty()) socket_path = find_socket(config_path, explicit_config);
    nlohmann::json request = {{"args", args}};
    nlohmann::json reply = nlohmann::json::parse(send_request(socket_path, request.dump()));
    if (!reply.value("ok", false)) {
      std::fprintf(stderr, "resolverctl: %s\n", reply.value("error", std::string("failed")).c_str());
      if (json) std::printf("%s\n", reply.dump(2).c_str());
      return 1;
    }
    if (json) {
      std::printf("%s\n", reply["data"].dump(2).c_str());
    } else {
      std::string text = reply.value("text", std::string());
      if (!text.empty() && text.back() != '\n') text.push_back('\n');
      std::fputs(text.c_str(), stdout);
    }
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "resolverctl: %s\n", e.what());
    return 2;
  }
}
