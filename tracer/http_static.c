/* http_static.c — see http_static.h. */
#include "http_static.h"

#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_SIZE (256 * 1024)
#define URL_MAX 2048
#define HOST_MAX 256

/* One connection, one request. */
struct conn {
  lrt_tcp_t tcp; /* first: the connection is found from its handle */
  struct http_static* server;
  http_parser parser;
  char url[URL_MAX];
  size_t url_len;
  char host[HOST_MAX];
  size_t host_len;
  int header_is_host; /* the header being read is Host */
  int too_long;       /* the URL or the Host did not fit */
  int answered;       /* a response is under way */
  lrt_write_t write;
  char head[512];
  int fd;           /* file being sent, -1 when none */
  size_t remaining; /* its bytes still to send */
  char* chunk;
};

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

static void conn_closed(lrt_tcp_t* tcp) {
  struct conn* c = (struct conn*) tcp;
  if (c->fd >= 0)
    close(c->fd);
  free(c->chunk);
  free(c);
}

static void conn_close(struct conn* c) {
  lrt_tcp_close(&c->tcp, conn_closed);
}

static void send_next(struct conn* c);

static void written(lrt_write_t* req, int status) {
  struct conn* c = req->data;
  if (status != 0 || c->remaining == 0) {
    conn_close(c);
    return;
  }
  send_next(c);
}

/* Reads and sends the next chunk of the file. A read from the page cache
 * blocks the loop only briefly, and the server has nothing else to do. */
static void send_next(struct conn* c) {
  size_t want = c->remaining < CHUNK_SIZE ? c->remaining : CHUNK_SIZE;
  ssize_t n;
  do
    n = read(c->fd, c->chunk, want);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    /* The file shrank or failed under us: cut the response short. */
    conn_close(c);
    return;
  }
  c->remaining -= (size_t) n;
  if (lrt_tcp_write(&c->write, &c->tcp, c->chunk, (size_t) n, written) != 0)
    conn_close(c);
}

/* Sends a status line with `body` (may be NULL) and closes. */
static void respond_text(struct conn* c, int status, const char* reason,
                         const char* extra_headers, const char* body) {
  size_t len = body != NULL ? strlen(body) : 0;
  int n = snprintf(c->head, sizeof(c->head),
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: %zu\r\n"
                   "%s"
                   "Connection: close\r\n\r\n%s",
                   status, reason, len, extra_headers, body ? body : "");
  c->remaining = 0;
  c->server->requests++;
  if (lrt_tcp_write(&c->write, &c->tcp, c->head, (size_t) n, written) != 0)
    conn_close(c);
}

static const struct http_file* find_file(const struct http_static* s,
                                         const char* url, size_t len) {
  size_t i;
  for (i = 0; i < s->nfiles; i++)
    if (strlen(s->files[i].url) == len &&
        memcmp(s->files[i].url, url, len) == 0)
      return &s->files[i];
  return NULL;
}

/* Whether the Host header names this server. */
static int host_ok(const struct conn* c) {
  char want[64];
  snprintf(want, sizeof(want), "127.0.0.1:%d", c->server->port);
  if (strcmp(c->host, want) == 0)
    return 1;
  snprintf(want, sizeof(want), "localhost:%d", c->server->port);
  return strcmp(c->host, want) == 0;
}

static void respond(struct conn* c) {
  const struct http_file* f;
  struct stat st;
  size_t path_len;
  int head = c->parser.method == HTTP_HEAD;
  int n;

  c->answered = 1;
  lrt_tcp_read_stop(&c->tcp);
  if (c->parser.method != HTTP_GET && !head) {
    respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
                 "only GET and HEAD\n");
    return;
  }
  if (c->too_long || !host_ok(c)) {
    respond_text(c, 400, "Bad Request", "", "bad request\n");
    return;
  }
  /* The path is everything before a query; it must be in the table as it
   * is, byte for byte. */
  path_len = strcspn(c->url, "?#");
  f = c->url[0] == '/' ? find_file(c->server, c->url, path_len) : NULL;
  if (f == NULL) {
    respond_text(c, 404, "Not Found", "", "not found\n");
    return;
  }
  c->fd = open(f->path, O_RDONLY | O_CLOEXEC);
  if (c->fd < 0 || fstat(c->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    respond_text(c, 404, "Not Found", "", "not found\n");
    return;
  }
  c->chunk = malloc(CHUNK_SIZE);
  if (c->chunk == NULL) {
    respond_text(c, 500, "Internal Server Error", "", "out of memory\n");
    return;
  }
  n = snprintf(c->head, sizeof(c->head),
               "HTTP/1.1 200 OK\r\n"
               "Content-Type: %s\r\n"
               "Content-Length: %lld\r\n"
               "Cache-Control: no-store\r\n"
               "X-Content-Type-Options: nosniff\r\n"
               "Connection: close\r\n\r\n",
               f->type, (long long) st.st_size);
  c->remaining = head ? 0 : (size_t) st.st_size;
  c->server->requests++;
  if (lrt_tcp_write(&c->write, &c->tcp, c->head, (size_t) n, written) != 0)
    conn_close(c);
}

/* http_parser callbacks: collect the URL and the Host header. */

static int append(char* buf, size_t* len, size_t cap, const char* at,
                  size_t n, int* too_long) {
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
  struct conn* c = p->data;
  return append(c->url, &c->url_len, sizeof(c->url), at, n, &c->too_long);
}

static int on_header_field(http_parser* p, const char* at, size_t n) {
  struct conn* c = p->data;
  /* A field may arrive in pieces; "Host" is short enough to come whole in
   * practice, and a split one only makes the request fail the check. */
  c->header_is_host = n == 4 && strncasecmp(at, "host", 4) == 0;
  return 0;
}

static int on_header_value(http_parser* p, const char* at, size_t n) {
  struct conn* c = p->data;
  if (!c->header_is_host)
    return 0;
  return append(c->host, &c->host_len, sizeof(c->host), at, n, &c->too_long);
}

static int on_message_complete(http_parser* p) {
  struct conn* c = p->data;
  if (!c->answered)
    respond(c);
  return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_message_complete = on_message_complete,
};

static void on_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  struct conn* c = (struct conn*) tcp;
  size_t parsed;
  if (nread < 0) {
    conn_close(c);
    return;
  }
  parsed = http_parser_execute(&c->parser, &settings, data, (size_t) nread);
  if (c->answered)
    return;
  if (c->parser.http_errno != HPE_OK || parsed != (size_t) nread) {
    c->answered = 1;
    lrt_tcp_read_stop(&c->tcp);
    respond_text(c, 400, "Bad Request", "", "bad request\n");
  }
}

static void on_connection(lrt_tcp_t* server, int status) {
  struct http_static* s = server->data;
  struct conn* c;
  if (status != 0)
    return;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return;
  c->server = s;
  c->fd = -1;
  c->write.data = c;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (lrt_tcp_init(s->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  lrt_tcp_set_label(&c->tcp, "http");
  if (lrt_tcp_accept(server, &c->tcp) != 0 ||
      lrt_tcp_read_start(&c->tcp, on_read) != 0)
    conn_close(c);
}

int http_static_start(struct http_static* s, lrt_loop_t* loop, int port,
                      const struct http_file* files, size_t nfiles) {
  int r;
  memset(s, 0, sizeof(*s));
  s->loop = loop;
  s->files = files;
  s->nfiles = nfiles;
  r = lrt_tcp_init(loop, &s->server);
  if (r != 0)
    return r;
  s->server.data = s;
  lrt_tcp_set_label(&s->server, "http");
  r = lrt_tcp_listen(&s->server, "127.0.0.1", port, 64, on_connection);
  if (r != 0) {
    lrt_tcp_close(&s->server, NULL);
    return r;
  }
  s->port = lrt_tcp_port(&s->server);
  return 0;
}

void http_static_stop(struct http_static* s) {
  lrt_tcp_close(&s->server, NULL);
}
