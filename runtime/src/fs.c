/* fs.c — whole-file read and write, and stat, on the threadpool.
 *
 * The worker uses plain POSIX calls: libuv's synchronous uv_fs_* would
 * touch the loop's request counters from the worker thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

enum fs_op { FS_READ_FILE, FS_WRITE_FILE, FS_STAT };

/* Reads all of fd into a NUL-terminated malloc'ed buffer. */
static ssize_t read_all(int fd, char** out, size_t* out_len) {
  struct stat st;
  size_t cap;
  size_t len = 0;
  char* buf;

  if (fstat(fd, &st) != 0)
    return -errno;
  cap = st.st_size > 0 ? (size_t) st.st_size + 1 : 4096;
  buf = malloc(cap);
  if (buf == NULL)
    return UV_ENOMEM;
  for (;;) {
    ssize_t n;
    if (len + 1 == cap) {
      char* bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        return UV_ENOMEM;
      }
      buf = bigger;
      cap *= 2;
    }
    n = read(fd, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = -errno;
      free(buf);
      return err;
    }
    if (n == 0)
      break;
    len += (size_t) n;
  }
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  return (ssize_t) len;
}

static ssize_t write_all(int fd, const char* data, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    off += (size_t) n;
  }
  return (ssize_t) len;
}

static void to_uv_stat(const struct stat* st, uv_stat_t* out) {
  memset(out, 0, sizeof(*out));
  out->st_dev = st->st_dev;
  out->st_mode = st->st_mode;
  out->st_nlink = st->st_nlink;
  out->st_uid = st->st_uid;
  out->st_gid = st->st_gid;
  out->st_rdev = st->st_rdev;
  out->st_ino = st->st_ino;
  out->st_size = st->st_size;
  out->st_blksize = st->st_blksize;
  out->st_blocks = st->st_blocks;
  out->st_atim.tv_sec = st->st_atim.tv_sec;
  out->st_atim.tv_nsec = st->st_atim.tv_nsec;
  out->st_mtim.tv_sec = st->st_mtim.tv_sec;
  out->st_mtim.tv_nsec = st->st_mtim.tv_nsec;
  out->st_ctim.tv_sec = st->st_ctim.tv_sec;
  out->st_ctim.tv_nsec = st->st_ctim.tv_nsec;
}

static void fs_work(lrt_work_t* work) {
  lrt_fs_t* req = container_of(work, lrt_fs_t, work);
  struct stat st;
  int fd;

  switch (req->op) {
  case FS_READ_FILE:
    fd = open(req->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      req->result = -errno;
      return;
    }
    req->result = read_all(fd, &req->buf, &req->len);
    close(fd);
    break;
  case FS_WRITE_FILE:
    fd = open(req->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
      req->result = -errno;
      return;
    }
    req->result = write_all(fd, req->wdata, req->wlen);
    if (close(fd) != 0 && req->result >= 0)
      req->result = -errno;
    break;
  case FS_STAT:
    if (stat(req->path, &st) != 0) {
      req->result = -errno;
      return;
    }
    to_uv_stat(&st, &req->stat);
    req->result = 0;
    break;
  }
}

static void fs_done(lrt_work_t* work, int status) {
  lrt_fs_t* req = container_of(work, lrt_fs_t, work);
  free(req->path);
  req->path = NULL;
  if (status == UV_ECANCELED)
    req->result = UV_ECANCELED;
  req->cb(req);
}

static int fs_submit(lrt_loop_t* loop, lrt_fs_t* req, enum fs_op op,
                     const char* path, lrt_fs_cb cb, const char* label) {
  int r;
  if (loop == NULL || req == NULL || path == NULL || cb == NULL)
    return UV_EINVAL;
  req->op = op;
  req->cb = cb;
  req->result = 0;
  req->buf = NULL;
  req->len = 0;
  req->path = strdup(path);
  if (req->path == NULL)
    return UV_ENOMEM;
  r = lrt__work_submit(loop, &req->work, fs_work, fs_done, label, LRT_CB_FS);
  if (r != 0) {
    free(req->path);
    req->path = NULL;
  }
  return r;
}

int lrt_fs_read_file(lrt_loop_t* loop, lrt_fs_t* req, const char* path,
                     lrt_fs_cb cb, const char* label) {
  return fs_submit(loop, req, FS_READ_FILE, path, cb,
                   label != NULL ? label : "fs.readFile");
}

int lrt_fs_write_file(lrt_loop_t* loop, lrt_fs_t* req, const char* path,
                      const void* data, size_t len, lrt_fs_cb cb,
                      const char* label) {
  if (req == NULL || (data == NULL && len > 0))
    return UV_EINVAL;
  req->wdata = data;
  req->wlen = len;
  return fs_submit(loop, req, FS_WRITE_FILE, path, cb,
                   label != NULL ? label : "fs.writeFile");
}

int lrt_fs_stat(lrt_loop_t* loop, lrt_fs_t* req, const char* path, lrt_fs_cb cb,
                const char* label) {
  return fs_submit(loop, req, FS_STAT, path, cb,
                   label != NULL ? label : "fs.stat");
}

void lrt_fs_cleanup(lrt_fs_t* req) {
  if (req == NULL)
    return;
  free(req->buf);
  req->buf = NULL;
  req->len = 0;
}
