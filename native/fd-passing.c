/*
 * Listening sockets handed from one balancer process to the next (HAProxy's `-x`, Einhorn's and
 * systemd's socket passing): SCM_RIGHTS over a unix socket, and dup(2). Node 20 has neither for
 * processes that are not parent and child, and a PM2 restart starts the new balancer only after
 * the old one has exited, so the sockets wait in a small holder process in between.
 *
 * Only what node cannot do: the unix sockets themselves are node's (a net.Server in the holder, a
 * net.Socket in the taker, both paused so node reads nothing), and these functions work on their
 * descriptors. Every error is thrown with its errno name as the code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 16
#define MAX_TEXT 65536

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  const char *code = err == EBADF        ? "EBADF"
                     : err == EAGAIN       ? "EAGAIN"
                     : err == EPIPE        ? "EPIPE"
                     : err == ECONNRESET   ? "ECONNRESET"
                     : err == ETIMEDOUT    ? "ETIMEDOUT"
                     : err == EMSGSIZE     ? "EMSGSIZE"
                                           : "EIO";
  napi_throw_error(env, code, message);
  return NULL;
}

static int arg_int(napi_env env, napi_value value, int *out) {
  return napi_get_value_int32(env, value, out) == napi_ok ? 0 : -1;
}

static napi_value make_int(napi_env env, int value) {
  napi_value out;
  napi_create_int32(env, value, &out);
  return out;
}

/* The one number argument of dup(fd) and close(fd); -1 (with a TypeError thrown) otherwise. */
static int fd_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || arg_int(env, argv[0], &fd) != 0 || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", usage);
    return -1;
  }
  return fd;
}

/* dup(fd) -> a new descriptor (close-on-exec; a child gets it only where spawn puts it). */
static napi_value js_dup(napi_env env, napi_callback_info info) {
  int fd = fd_arg(env, info, "dup(fd): fd must be a descriptor number");
  if (fd < 0) return NULL;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return throw_errno(env, "dup", errno);
  return make_int(env, copy);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  int fd = fd_arg(env, info, "close(fd): fd must be a descriptor number");
  if (fd < 0) return NULL;
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

/* sendFds(connFd, fds, text): the descriptors and a text (JSON) in one message, then the rest. */
static napi_value js_send_fds(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int conn;
  uint32_t count = 0;
  int fds[MAX_FDS];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || arg_int(env, argv[0], &conn) != 0 || napi_get_array_length(env, argv[1], &count) != napi_ok ||
      count == 0 || count > MAX_FDS) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendFds(fd, fds[1..16], text)");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_get_element(env, argv[1], i, &item);
    if (arg_int(env, item, &fds[i]) != 0) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendFds: every fd must be a number");
      return NULL;
    }
  }
  size_t length = 0;
  if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &length) != napi_ok || length == 0 ||
      length >= MAX_TEXT) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendFds: text must be 1..65535 bytes");
    return NULL;
  }
  char *text = malloc(length + 1);
  napi_get_value_string_utf8(env, argv[2], text, length + 1, &length);

  char control[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = text, .iov_len = length};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = CMSG_SPACE(sizeof(int) * count)};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
  memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);

  ssize_t sent;
  do sent = sendmsg(conn, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  size_t done = sent > 0 ? (size_t)sent : 0;
  while (sent >= 0 && done < length) {
    sent = send(conn, text + done, length - done, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) sent = 0;
    else if (sent > 0) done += (size_t)sent;
  }
  int err = errno;
  free(text);
  if (sent < 0) return throw_errno(env, "sendmsg", err);
  return NULL;
}

/*
 * receiveFds(connFd, timeoutMs) -> { fds, text }: what the holder sent on a connected unix socket,
 * read up to the newline that ends its one message. The holder sends it as soon as it accepts, so
 * the wait is short; the descriptor is node's (non-blocking), hence the poll.
 */
static napi_value js_receive_fds(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd, timeout;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || arg_int(env, argv[0], &fd) != 0 || arg_int(env, argv[1], &timeout) != 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "receiveFds(fd, timeoutMs): numbers");
    return NULL;
  }
  char *text = malloc(MAX_TEXT);
  size_t length = 0;
  int fds[MAX_FDS];
  int count = 0;
  int err = 0;
  while (length == 0 || text[length - 1] != '\n') {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      err = ready == 0 ? ETIMEDOUT : errno;
      break;
    }
    char control[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct iovec iov = {.iov_base = text + length, .iov_len = MAX_TEXT - 1 - length};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    ssize_t got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) {
      err = errno;
      break;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < n; i++) {
        int received;
        memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (count < MAX_FDS) fds[count++] = received;
        else close(received);
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) err = EMSGSIZE;
    else if (got == 0) err = ECONNRESET; /* closed before the message was whole */
    if (err != 0) break;
    length += (size_t)got;
    if (length >= MAX_TEXT - 1) {
      err = EMSGSIZE;
      break;
    }
  }
  if (err != 0 || count == 0) {
    for (int i = 0; i < count; i++) close(fds[i]);
    free(text);
    return throw_errno(env, "receiveFds", err != 0 ? err : EIO);
  }
  napi_value out, list, string;
  napi_create_object(env, &out);
  napi_create_array_with_length(env, (size_t)count, &list);
  for (int i = 0; i < count; i++) napi_set_element(env, list, (uint32_t)i, make_int(env, fds[i]));
  napi_create_string_utf8(env, text, length - 1, &string);
  free(text);
  napi_set_named_property(env, out, "fds", list);
  napi_set_named_property(env, out, "text", string);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"dup", NULL, js_dup, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"sendFds", NULL, js_send_fds, NULL, NULL, NULL, napi_default, NULL},
      {"receiveFds", NULL, js_receive_fds, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
