/* http_static.c — see http_static.h. */
#include "http_static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
  const char* ext;
  const char* type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

const char* http_content_type(const char* name) {
  const char* dot = strrchr(name, '.');
  size_t i;
  if (dot != NULL)
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
      if (strcasecmp(dot, types[i].ext) == 0)
        return types[i].type;
  return "application/octet-stream";
}

int http_file_open(struct http_file* f, const char* url, const char* path) {
  struct stat st;
  int err;
  memset(f, 0, sizeof(*f));
  /* O_NONBLOCK: a FIFO put in a file's place must not hang the open. */
  f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (f->fd < 0)
    return -errno;
  if (fstat(f->fd, &st) != 0)
    err = -errno;
  else if (!S_ISREG(st.st_mode))
    err = -EINVAL;
  else if ((f->url = strdup(url)) == NULL)
    err = -ENOMEM;
  else
    err = 0;
  if (err != 0) {
    close(f->fd);
    f->fd = -1;
    return err;
  }
  f->type = http_content_type(path);
  return 0;
}

void http_file_close(struct http_file* f) {
  if (f->fd >= 0)
    close(f->fd);
  free(f->url);
  f->url = NULL;
  f->fd = -1;
}

void http_file_send(http_conn_t* conn, void* file) {
  const struct http_file* f = file;
  http_respond_file(conn, f->type, f->headers, f->fd);
}
