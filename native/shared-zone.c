/*
 * The balancer's shared upstream zone (nginx's `zone`, HAProxy's one server table): one block of
 * memory that a primary and all its workers map, read and write in place with JavaScript's
 * Atomics. memfd_create makes it an anonymous file whose descriptor travels like a listening
 * socket (a worker inherits it, a handover carries it), and mmap(MAP_SHARED) maps it in each
 * process as an external ArrayBuffer. Node has no shared memory between processes of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  napi_throw_error(env, err == EBADF ? "EBADF" : err == EINVAL ? "EINVAL" : "EIO", message);
  return NULL;
}

static int int_arg(napi_env env, napi_callback_info info, size_t at, int *out) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (at >= argc || napi_get_value_int32(env, argv[at], out) != napi_ok || *out < 0) return -1;
  return 0;
}

/* create(bytes) -> fd: an anonymous shared file of that size, zero-filled (close-on-exec). */
static napi_value js_create(napi_env env, napi_callback_info info) {
  int bytes;
  if (int_arg(env, info, 0, &bytes) != 0 || bytes == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "create(bytes): a positive size");
    return NULL;
  }
  int fd = memfd_create("supervised-balancer-zone", MFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "memfd_create", errno);
  if (ftruncate(fd, bytes) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ftruncate", err);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(unsigned long)hint);
}

/* map(fd) -> ArrayBuffer over the whole file, shared with every process that maps it. */
static napi_value js_map(napi_env env, napi_callback_info info) {
  int fd;
  if (int_arg(env, info, 0, &fd) != 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "map(fd): a descriptor");
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return throw_errno(env, "fstat", errno);
  if (st.st_size <= 0) return throw_errno(env, "map", EINVAL);
  size_t bytes = (size_t)st.st_size;
  void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) return throw_errno(env, "mmap", errno);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, bytes, unmap, (void *)(unsigned long)bytes, &buffer) !=
      napi_ok) {
    munmap(memory, bytes);
    napi_throw_error(env, "EIO", "napi_create_external_arraybuffer failed");
    return NULL;
  }
  return buffer;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"create", NULL, js_create, NULL, NULL, NULL, napi_default, NULL},
      {"map", NULL, js_map, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
