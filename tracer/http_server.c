/* http_server.c — see http_server.h. */
#include "http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define URL_MAX 2048
#define HOST_MAX 256
#define HEAD_MAX 1024
#define BACKLOG 128

/* One connection, one request. */
struct http_conn {
  lrt_tcp_t tcp; /* first: the connection is found from its handle */
  struct http_server* server;
  http_conn_t* prev; /* in the server's list, by idleness */
  http_conn_t* next;
  lrt_timer_t timer; /* the deadline for progress */
  http_parser parser;
  char url[URL_MAX];
  size_t url_len;
  char host[HOST_MAX];
  size_t host_len;
  int header_is_host; /* the header being read is Host */
  int too_long;       /* the URL or the Host did not fit */
  int answered;       /* the request was complete and handed on */
  int responding;     /* a response is under way */
  int closing;
  lrt_write_t write;
  char* out; /* the head of the response, and a short body */
  int fd;    /* file being sent, or -1 */
  uint64_t offset;
  uint64_t end; /* offset after the file's last byte to send */
  char* chunk;
};

/* ------------------------------------------------------------------------
 * Connections: a list ordered by the time of their last progress, the
 * longest idle first.
 */

static void list_remove(struct http_server* s, http_conn_t* c) {
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    s->idlest = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  else
    s->newest = c->prev;
  c->prev = c->next = NULL;
}

static void list_append(struct http_server* s, http_conn_t* c) {
  c->prev = s->newest;
  c->next = NULL;
  if (s->newest != NULL)
    s->newest->next = c;
  else
    s->idlest = c;
  s->newest = c;
}

static void on_timeout(lrt_timer_t* timer);

/* Notes progress on `c`: it becomes the latest active, and has `ms` from
 * now for the next. */
static void progress(http_conn_t* c, uint64_t ms) {
  struct http_server* s = c->server;
  if (s->newest != c) {
    list_remove(s, c);
    list_append(s, c);
  }
  lrt_timeout(s->loop, &c->timer, ms, on_timeout, "http.timeout");
}

static void conn_closed(lrt_tcp_t* tcp) {
  http_conn_t* c = (http_conn_t*) tcp;
  free(c->chunk);
  free(c->out);
  free(c);
}

/* Closes `c`; it is freed once libuv is done with it. */
static void conn_close(http_conn_t* c) {
  if (c->closing)
    return;
  c->closing = 1;
  list_remove(c->server, c);
  c->server->nconns--;
  lrt_timer_clear(&c->timer);
  lrt_tcp_close(&c->tcp, conn_closed);
}

static void on_timeout(lrt_timer_t* timer) {
  http_conn_t* c = timer->data;
  c->server->timeouts++;
  conn_close(c);
}

/* ------------------------------------------------------------------------
 * Responses.
 */

static const char* reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

/* The status line and headers, every response's security headers among
 * them, into `buf`. Returns their length, or -1 if they do not fit. */
static int format_head(const struct http_server* s, char* buf, size_t size,
                       int status, const char* type, const char* headers,
                       uint64_t length) {
  int n = snprintf(buf, size,
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %" PRIu64
                   "\r\n"
                   "%s"
                   "Cache-Control: no-store\r\n"
                   "X-Content-Type-Options: nosniff\r\n"
                   "Content-Security-Policy: %s\r\n"
                   "X-Frame-Options: DENY\r\n"
                   "Referrer-Policy: no-referrer\r\n"
                   "Cross-Origin-Resource-Policy: same-origin\r\n"
                   "Connection: close\r\n\r\n",
                   status, reason(status), type, length,
                   headers != NULL ? headers : "",
                   s->csp != NULL ? s->csp : HTTP_SERVER_CSP_NONE);
  return n > 0 && (size_t) n < size ? n : -1;
}

static void send_next(http_conn_t* c);

static void written(lrt_write_t* req, int status) {
  http_conn_t* c = req->data;
  if (c->closing)
    return; /* cancelled by the close */
  if (status != 0 || c->offset >= c->end) {
    conn_close(c);
    return;
  }
  progress(c, HTTP_SERVER_IDLE_MS);
  send_next(c);
}

/* Reads and sends the next chunk of the file. A read from the page cache
 * blocks the loop only briefly, and the server has little else to do. */
static void send_next(http_conn_t* c) {
  uint64_t left = c->end - c->offset;
  size_t want = left < HTTP_SERVER_CHUNK ? (size_t) left : HTTP_SERVER_CHUNK;
  ssize_t n;
  do
    n = pread(c->fd, c->chunk, want, (off_t) c->offset);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    /* The file shrank or failed under us: cut the response short. */
    conn_close(c);
    return;
  }
  c->offset += (uint64_t) n;
  if (lrt_tcp_write(&c->write, &c->tcp, c->chunk, (size_t) n, written) != 0)
    conn_close(c);
}

/* Sends the head (and `body`), then the file if one is set. */
static void send_head(http_conn_t* c, int status, const char* type,
                      const char* headers, const void* body, size_t len,
                      uint64_t length) {
  char head[HEAD_MAX];
  int n;
  int is_head = c->parser.method == HTTP_HEAD;
  if (c->responding)
    return; /* a handler's second answer */
  c->responding = 1;
  c->server->requests++;
  n = format_head(c->server, head, sizeof(head), status, type, headers, length);
  if (is_head) {
    len = 0;
    c->end = c->offset;
  }
  c->out = n < 0 ? NULL : malloc((size_t) n + len);
  if (c->out == NULL) {
    conn_close(c);
    return;
  }
  memcpy(c->out, head, (size_t) n);
  if (len > 0)
    memcpy(c->out + n, body, len);
  if (lrt_tcp_write(&c->write, &c->tcp, c->out, (size_t) n + len, written) != 0)
    conn_close(c);
}

void http_respond(http_conn_t* c, int status, const char* type,
                  const char* headers, const void* body, size_t len) {
  if (c == NULL || c->closing)
    return;
  send_head(c, status, type, headers, body, len, len);
}

void http_respond_file(http_conn_t* c, const char* type, const char* headers,
                       int fd) {
  struct stat st;
  if (c == NULL || c->closing)
    return;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    http_respond(c, 404, "text/plain; charset=utf-8", NULL, "not found\n", 10);
    return;
  }
  c->chunk = malloc(HTTP_SERVER_CHUNK);
  if (c->chunk == NULL) {
    http_respond(c, 500, "text/plain; charset=utf-8", NULL, "out of memory\n",
                 14);
    return;
  }
  c->fd = fd;
  c->offset = 0;
  c->end = (uint64_t) st.st_size;
  send_head(c, 200, type, headers, NULL, 0, c->end);
}

static void respond_text(http_conn_t* c, int status, const char* headers,
                         const char* body) {
  http_respond(c, status, "text/plain; charset=utf-8", headers, body,
               strlen(body));
}

/* ------------------------------------------------------------------------
 * Requests.
 */

static const struct http_route* find_route(const struct http_server* s,
                                           const char* path, size_t len) {
  size_t i;
  for (i = 0; i < s->nroutes; i++)
    if (strlen(s->routes[i].path) == len &&
        memcmp(s->routes[i].path, path, len) == 0)
      return &s->routes[i];
  return NULL;
}

/* Whether the Host header names this server. */
static int host_ok(const http_conn_t* c) {
  const struct http_server* s = c->server;
  return strcmp(c->host, s->host) == 0 ||
         (s->localhost[0] != '\0' && strcmp(c->host, s->localhost) == 0);
}

/* The request is complete: check it and hand it to its route. */
static void dispatch(http_conn_t* c) {
  const struct http_route* route;
  size_t path_len;
  int method = c->parser.method;

  c->answered = 1;
  lrt_tcp_read_stop(&c->tcp);
  progress(c, HTTP_SERVER_IDLE_MS);
  if (method != HTTP_GET && method != HTTP_HEAD) {
    respond_text(c, 405, "Allow: GET, HEAD\r\n", "only GET and HEAD\n");
    return;
  }
  if (c->too_long || !host_ok(c)) {
    respond_text(c, 400, NULL, "bad request\n");
    return;
  }
  /* The path is everything before a query; it must be in the table as it
   * is, byte for byte. */
  path_len = strcspn(c->url, "?#");
  route = c->url[0] == '/' ? find_route(c->server, c->url, path_len) : NULL;
  if (route == NULL) {
    respond_text(c, 404, NULL, "not found\n");
    return;
  }
  route->handler(c, route->data);
}

/* http_parser callbacks: collect the URL and the Host header. */

static int append(char* buf, size_t* len, size_t cap, const char* at, size_t n,
                  int* too_long) {
  if (*len + n >= cap) {
    *too_long = 1;
    return 0;
  }
  memcpy(buf + *len, at, n);
  *len += n;
  buf[*len] = '\0';
  return 0;
}

static int on_url(http_parser* p, const char* at, size_t n) {
  http_conn_t* c = p->data;
  return append(c->url, &c->url_len, sizeof(c->url), at, n, &c->too_long);
}

static int on_header_field(http_parser* p, const char* at, size_t n) {
  http_conn_t* c = p->data;
  /* A field may arrive in pieces; "Host" is short enough to come whole in
   * practice, and a split one only makes the request fail the check. */
  c->header_is_host = n == 4 && strncasecmp(at, "host", 4) == 0;
  return 0;
}

static int on_header_value(http_parser* p, const char* at, size_t n) {
  http_conn_t* c = p->data;
  if (!c->header_is_host)
    return 0;
  return append(c->host, &c->host_len, sizeof(c->host), at, n, &c->too_long);
}

static int on_message_complete(http_parser* p) {
  http_conn_t* c = p->data;
  if (!c->answered)
    dispatch(c);
  return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_message_complete = on_message_complete,
};

static void on_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  http_conn_t* c = (http_conn_t*) tcp;
  size_t parsed;
  if (nread < 0) {
    conn_close(c);
    return;
  }
  /* Bytes are not progress: a request has HTTP_SERVER_REQUEST_MS in all,
   * however slowly it trickles in. */
  parsed = http_parser_execute(&c->parser, &settings, data, (size_t) nread);
  if (c->answered || c->closing)
    return;
  if (c->parser.http_errno != HPE_OK || parsed != (size_t) nread) {
    c->answered = 1;
    lrt_tcp_read_stop(&c->tcp);
    progress(c, HTTP_SERVER_IDLE_MS);
    respond_text(c, 400, NULL, "bad request\n");
  }
}

static void on_connection(lrt_tcp_t* server, int status) {
  struct http_server* s = server->data;
  http_conn_t* c;
  if (status != 0)
    return;
  /* Room first: the connection idle the longest goes. */
  if (s->nconns >= HTTP_SERVER_MAX_CONNS && s->idlest != NULL) {
    s->evicted++;
    conn_close(s->idlest);
  }
  /* XXX: if this allocation fails, the connection stays pending and libuv
   * accepts no other until one is accepted. */
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return;
  c->server = s;
  c->fd = -1;
  c->write.data = c;
  c->timer.data = c;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (lrt_tcp_init(s->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  lrt_tcp_set_label(&c->tcp, "http");
  list_append(s, c);
  s->nconns++;
  progress(c, HTTP_SERVER_REQUEST_MS);
  if (lrt_tcp_accept(server, &c->tcp) != 0 ||
      lrt_tcp_read_start(&c->tcp, on_read) != 0)
    conn_close(c);
}

/* "IP:PORT" as a client names it: IPv6 in brackets. */
static void host_name(char* buf, size_t size, const char* ip, int port) {
  if (strchr(ip, ':') != NULL)
    snprintf(buf, size, "[%s]:%d", ip, port);
  else
    snprintf(buf, size, "%s:%d", ip, port);
}

int http_server_start(struct http_server* s, lrt_loop_t* loop, const char* ip,
                      int port, const struct http_route* routes,
                      size_t nroutes) {
  const char* csp = s->csp;
  int r;
  memset(s, 0, sizeof(*s));
  s->csp = csp;
  s->loop = loop;
  s->routes = routes;
  s->nroutes = nroutes;
  r = lrt_tcp_init(loop, &s->tcp);
  if (r != 0)
    return r;
  s->tcp.data = s;
  lrt_tcp_set_label(&s->tcp, "http");
  r = lrt_tcp_listen(&s->tcp, ip, port, BACKLOG, on_connection);
  if (r == 0)
    r = lrt_tcp_port(&s->tcp);
  if (r < 0) {
    lrt_tcp_close(&s->tcp, NULL);
    return r;
  }
  s->port = r;
  s->listening = 1;
  host_name(s->host, sizeof(s->host), ip, s->port);
  /* XXX: a server bound beyond loopback (for metrics) will want the names
   * it may be called by from its caller. */
  if (strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "::1") == 0)
    snprintf(s->localhost, sizeof(s->localhost), "localhost:%d", s->port);
  return 0;
}

int http_server_port(const struct http_server* s) {
  return s->port;
}

void http_server_stop(struct http_server* s) {
  if (s->listening) {
    s->listening = 0;
    lrt_tcp_close(&s->tcp, NULL);
  }
  while (s->idlest != NULL)
    conn_close(s->idlest);
}
