/*
 * Optional zero-copy path for @webmon/shm-reader: mmap an already opened shared-memory fd and
 * hand the pages to JavaScript as an external ArrayBuffer. Opening, size checks and unlink
 * detection stay in JavaScript (fs), so this file only does what Node cannot: mmap.
 *
 * mapFd(fd, length, writable) -> ArrayBuffer
 *   writable = false: MAP_PRIVATE, PROT_READ|PROT_WRITE. Unwritten pages are the shared tmpfs
 *     pages (Linux keeps them coherent with the writers' MAP_SHARED mappings), and a stray JS
 *     store copies that one page privately instead of crashing the process on a read-only page.
 *   writable = true: MAP_SHARED, stores reach Python (fd must be open O_RDWR).
 * The mapping is released by the ArrayBuffer's finalizer, never while a view can still reach it.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void unmap_pages(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value map_fd(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd = -1;
  int64_t length = 0;
  bool writable = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &length) != napi_ok || fd < 0 || length <= 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "mapFd(fd, length, writable): bad arguments");
    return NULL;
  }
  if (argc > 2) napi_get_value_bool(env, argv[2], &writable);
  void *pages = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE,
                     writable ? MAP_SHARED : MAP_PRIVATE, fd, 0);
  if (pages == MAP_FAILED) {
    char message[160];
    snprintf(message, sizeof message, "mmap failed: %s", strerror(errno));
    napi_throw_error(env, "ERR_MMAP", message);
    return NULL;
  }
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, pages, (size_t)length, unmap_pages,
                                       (void *)(uintptr_t)length, &buffer) != napi_ok) {
    munmap(pages, (size_t)length);
    napi_throw_error(env, "ERR_EXTERNAL_BUFFER", "external ArrayBuffers are not allowed here");
    return NULL;
  }
  return buffer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mapFd", NAPI_AUTO_LENGTH, map_fd, NULL, &fn);
  napi_set_named_property(env, exports, "mapFd", fn);
  return exports;
}
