// Internal to resolver/net: how every libuv handle is owned.
//
// Only .cc files of this folder include this header (and so <uv.h>); public headers
// of the network layer forward-declare what they need, so code above this layer never
// sees libuv.
//
// The ownership rule, used by every class in this folder:
//  - A handle lives inside a heap "box" struct whose first member is named `handle`,
//    together with whatever libuv may still touch after the C++ owner is gone (request
//    structs, buffers being written).
//  - The C++ owner (Timer, UdpListener, a TCP connection, an upstream exchange) holds a
//    raw pointer to its box and the box holds a raw `owner` pointer back. The owner's
//    destructor (or close()) clears `box->owner` and calls close_box(), which calls
//    uv_close; the box is deleted in the close callback, never earlier, because libuv
//    still reads the handle until then and may call pending request callbacks (with
//    UV_ECANCELED) first. Those callbacks find `owner == nullptr` and only free what
//    they own.
//  - A box whose uv_*_init failed was never registered with the loop and is deleted
//    directly by delete_unregistered_box().
#pragma once

#include <uv.h>

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "resolver/wire/address.h"

namespace rsv::uvbox {

template <typename Box>
void close_box(Box *box) {
  if (box == nullptr) return;
  auto *handle = reinterpret_cast<uv_handle_t *>(&box->handle);
  if (uv_is_closing(handle)) return;
  handle->data = box;
  uv_close(handle, [](uv_handle_t *closed) { delete static_cast<Box *>(closed->data); });
}

template <typename Box>
void delete_unregistered_box(Box *box) {
  delete box;
}

// Text of a libuv error code for exceptions and logs ("EADDRINUSE: address already in use").
inline std::string error_text(int code) {
  return std::string(uv_err_name(code)) + ": " + uv_strerror(code);
}

// SO_REUSEPORT (not SO_REUSEADDR): every worker thread binds the same address and
// port, and the kernel balances queries across their sockets. Returns an error text,
// or an empty string on success.
inline std::string enable_reuse_port(uv_handle_t *handle) {
  uv_os_fd_t fd = -1;
  if (int rc = uv_fileno(handle, &fd); rc != 0) return "no descriptor: " + error_text(rc);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return std::string("SO_REUSEPORT: ") + std::strerror(errno);
  return {};
}

// Sets SO_RCVBUF or SO_SNDBUF (`option`) to `bytes` unless it is 0, trying the
// *BUFFORCE variant first (past net.core.rmem_max / wmem_max; needs CAP_NET_ADMIN).
// Writes the size the kernel then reports, halved (Linux doubles what it is given to
// cover its bookkeeping), to `granted`. Returns an error text, or "" on success; a
// request the kernel capped is a success with a smaller `granted`.
inline std::string set_socket_buffer(uv_handle_t *handle, int option, uint64_t bytes, uint64_t *granted) {
  uv_os_fd_t fd = -1;
  if (int rc = uv_fileno(handle, &fd); rc != 0) return "no descriptor: " + error_text(rc);
  const char *name = option == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF";
  if (bytes != 0) {
    // The kernel takes an int and doubles it; the configuration allows at most 1G.
    int value = static_cast<int>(std::min<uint64_t>(bytes, 1u << 30));
    int force = option == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
    if (setsockopt(fd, SOL_SOCKET, force, &value, sizeof value) != 0 &&
        setsockopt(fd, SOL_SOCKET, option, &value, sizeof value) != 0)
      return std::string(name) + ": " + std::strerror(errno);
  }
  int reported = 0;
  socklen_t length = sizeof reported;
  if (getsockopt(fd, SOL_SOCKET, option, &reported, &length) != 0)
    return std::string(name) + ": " + std::strerror(errno);
  *granted = static_cast<uint64_t>(reported > 0 ? reported : 0) / 2;
  return {};
}

// Datagrams the kernel dropped on this socket (full receive buffer, mostly): the
// drops counter of SO_MEMINFO, also shown in /proc/net/udp. 0 when unavailable.
inline uint64_t socket_drops(const uv_handle_t *handle) {
  uv_os_fd_t fd = -1;
  if (uv_fileno(handle, &fd) != 0) return 0;
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof meminfo;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0 ||
      length < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
    return 0;
  return meminfo[SK_MEMINFO_DROPS];
}

}  // namespace rsv::uvbox
