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

#include <sys/socket.h>

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

}  // namespace rsv::uvbox
