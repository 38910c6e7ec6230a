/* http_static.h — files for http_server.c to serve, as they were when
 * the server started: each is opened once, checked to be a regular file,
 * and its descriptor kept; requests read it with pread(). Renaming,
 * replacing or swapping the path for a symlink afterwards changes nothing
 * that is served.
 */
#ifndef LOOPTRACE_HTTP_STATIC_H
#define LOOPTRACE_HTTP_STATIC_H

#include "http_server.h"

struct http_file {
  char* url;           /* "/js/main.js": exact path, no query */
  int fd;              /* the file, open for reading */
  const char* type;    /* Content-Type */
  const char* headers; /* extra header lines ("...\r\n"), or NULL */
};

/* Opens `path` to be served at `url`, with the Content-Type its name
 * gives. Returns 0, -EINVAL if it is not a regular file, or another
 * negative errno (-ENOENT, -EACCES, -ENOMEM, ...). */
int http_file_open(struct http_file* f, const char* url, const char* path);

/* Closes the file and frees what http_file_open() allocated. */
void http_file_close(struct http_file* f);

/* A route handler (struct http_route) whose data is a struct http_file:
 * sends the file. */
void http_file_send(http_conn_t* conn, void* file);

/* The Content-Type for a file name, by its extension. */
const char* http_content_type(const char* name);

#endif /* LOOPTRACE_HTTP_STATIC_H */
