/* http_static.h — a small HTTP server for a fixed set of files, on looprt.
 *
 * It answers GET and HEAD for exactly the URL paths in its table and 404
 * for everything else: a request path is only ever compared with the
 * table, never turned into a file name, so no spelling of "..", however
 * encoded, reaches another file. Requests must name the server itself in
 * their Host header (127.0.0.1:PORT or localhost:PORT), which keeps pages
 * elsewhere from reading it through DNS rebinding. One request per
 * connection (Connection: close); files are streamed in chunks.
 */
#ifndef LOOPTRACE_HTTP_STATIC_H
#define LOOPTRACE_HTTP_STATIC_H

#include <stddef.h>

#include "looprt.h"

struct http_file {
  char* url;        /* "/js/main.js": exact path, no query */
  char* path;       /* file to send */
  const char* type; /* Content-Type */
};

struct http_static {
  lrt_loop_t* loop;
  lrt_tcp_t server;
  const struct http_file* files; /* the caller's, valid while serving */
  size_t nfiles;
  int port;
  unsigned long requests; /* answered, any status */
};

/* Listens on 127.0.0.1:`port` (0: any free port) and serves `files`.
 * Returns 0 or a negative errno (UV_EADDRINUSE, ...). */
int http_static_start(struct http_static* s, lrt_loop_t* loop, int port,
                      const struct http_file* files, size_t nfiles);

/* Stops listening; connections in progress finish. */
void http_static_stop(struct http_static* s);

/* The Content-Type for a file name, by its extension. */
const char* http_content_type(const char* name);

#endif /* LOOPTRACE_HTTP_STATIC_H */
