/* http_server.h — a small HTTP/1.1 server on looprt for a local tool:
 * `looptrace view` serves the viewer with it, and a metrics endpoint can
 * serve /metrics with the same hardening.
 *
 * What it promises, whatever clients send:
 * - It answers GET and HEAD (405 otherwise) for exactly the paths of its
 *   route table, compared byte for byte with the request's path (the part
 *   before '?' or '#'); everything else is 404. A path is never turned
 *   into a file name.
 * - A request must name the server in its Host header (IP:PORT as bound,
 *   or localhost:PORT on a loopback address), which keeps pages elsewhere
 *   from reading it through DNS rebinding.
 * - One request per connection (Connection: close).
 * - At most HTTP_SERVER_MAX_CONNS connections at a time: at the cap a new
 *   connection closes the one that has been idle the longest, so clients
 *   that hold connections without using them cannot lock others out.
 * - A request must arrive whole within HTTP_SERVER_REQUEST_MS of the
 *   connection; a response that makes no progress for HTTP_SERVER_IDLE_MS
 *   is dropped.
 * - Every response, errors included, carries the same security headers:
 *   X-Content-Type-Options: nosniff, the server's Content-Security-Policy,
 *   Cache-Control: no-store, Referrer-Policy: no-referrer,
 *   Cross-Origin-Resource-Policy: same-origin, X-Frame-Options: DENY.
 * - Memory: a connection costs about 3 KB, plus one chunk of
 *   HTTP_SERVER_CHUNK bytes while it sends a file.
 */
#ifndef LOOPTRACE_HTTP_SERVER_H
#define LOOPTRACE_HTTP_SERVER_H

#include <stddef.h>

#include "looprt.h"

#define HTTP_SERVER_MAX_CONNS 128
#define HTTP_SERVER_REQUEST_MS 5000
#define HTTP_SERVER_IDLE_MS 10000
#define HTTP_SERVER_CHUNK (64 * 1024)

/* For pages that load nothing at all. */
#define HTTP_SERVER_CSP_NONE                                  \
  "default-src 'none'; base-uri 'none'; form-action 'none'; " \
  "frame-ancestors 'none'"

typedef struct http_conn http_conn_t;

/* Answers the request on `conn` by calling one http_respond*() function
 * before it returns (a connection may be closed, to make room, at any
 * later time). `data` is the route's. */
typedef void (*http_handler)(http_conn_t* conn, void* data);

struct http_route {
  const char* path; /* "/metrics": exact, no query */
  http_handler handler;
  void* data; /* handed to the handler */
};

struct http_server {
  /* Set by the caller before http_server_start(), or left 0/NULL. */
  const char* csp; /* Content-Security-Policy (default: CSP_NONE) */
  /* private */
  lrt_loop_t* loop;
  lrt_tcp_t tcp;
  const struct http_route* routes; /* the caller's, valid while serving */
  size_t nroutes;
  char host[64];      /* "127.0.0.1:7878" */
  char localhost[32]; /* "localhost:7878", or "" */
  int port;
  int listening;
  http_conn_t* idlest; /* connections, the longest idle first ... */
  http_conn_t* newest; /* ... the latest active last */
  unsigned nconns;
  /* Counts, for tests and reports. */
  unsigned long requests; /* answered, any status */
  unsigned long evicted;  /* closed to make room for a new connection */
  unsigned long timeouts; /* closed for want of progress */
};

/* Listens on `ip`:`port` (0: any free port) and serves `routes`, which
 * must stay valid until the server is stopped. The caller sets s->csp
 * first (or zeroes it). Returns 0 or a negative errno (UV_EADDRINUSE,
 * ...). */
int http_server_start(struct http_server* s, lrt_loop_t* loop, const char* ip,
                      int port, const struct http_route* routes,
                      size_t nroutes);

/* The port listened on (after a start with port 0, the one picked). */
int http_server_port(const struct http_server* s);

/* Stops listening and closes every connection, answered or not; the loop
 * then has nothing of the server's left. */
void http_server_stop(struct http_server* s);

/* Responses: a handler calls exactly one of these for its connection,
 * which is closed once it is sent (or fails). After the call the
 * connection is no longer the handler's. */

/* Sends `status` with `body` (`len` bytes, copied) of type `type`.
 * `headers` (may be NULL) are extra header lines, each ending "\r\n". */
void http_respond(http_conn_t* conn, int status, const char* type,
                  const char* headers, const void* body, size_t len);

/* Sends the whole file open on `fd` (a regular file; the caller keeps it
 * open and owns it) with status 200, read with pread() from offset 0, so
 * that many connections may share the descriptor. Its length is the
 * file's size now; if it shrinks meanwhile the response is cut short. */
void http_respond_file(http_conn_t* conn, const char* type, const char* headers,
                       int fd);

#endif /* LOOPTRACE_HTTP_SERVER_H */
