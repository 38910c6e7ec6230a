/* test-http-server.c — tracer/http_server.c with a route of its own, as a
 * metrics endpoint would use it: a handler that makes its body, the
 * security headers on every answer, HEAD, 404, and the connection cap.
 * The server runs on a looprt loop here; the clients run in a child
 * process with blocking sockets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_server.h"
#include "test.h"

static struct {
  lrt_loop_t loop;
  struct http_server server;
  lrt_timer_t poll;
  pid_t client;
  int client_status;
  unsigned max_conns; /* the most connections seen at once */
  int calls;
} t;

static void metrics(http_conn_t* conn, void* data) {
  char body[64];
  int n =
      snprintf(body, sizeof(body), "%s %d\n", (const char*) data, ++t.calls);
  http_respond(conn, 200, "text/plain; version=0.0.4", NULL, body, (size_t) n);
}

static const struct http_route routes[] = {
    {"/metrics", metrics, "looptrace_requests_total"},
};

/* Until the client exits: notes the server's connections. */
static void poll_client(lrt_timer_t* timer) {
  if (t.server.nconns > t.max_conns)
    t.max_conns = t.server.nconns;
  if (waitpid(t.client, &t.client_status, WNOHANG) == t.client) {
    lrt_timer_clear(timer);
    http_server_stop(&t.server);
  }
}

/* Runs `client(port)` in a child while the server serves. */
static void serve_while(int (*client)(int port)) {
  memset(&t, 0, sizeof(t));
  ASSERT_EQ(lrt_loop_init(&t.loop), 0);
  ASSERT_EQ(http_server_start(&t.server, &t.loop, "127.0.0.1", 0, routes, 1),
            0);
  t.client = fork();
  ASSERT_GE(t.client, 0);
  if (t.client == 0)
    _exit(client(http_server_port(&t.server)));
  ASSERT_EQ(lrt_interval(&t.loop, &t.poll, 5, poll_client, NULL), 0);
  lrt_run(&t.loop);
  lrt_loop_close(&t.loop);
  ASSERT_EQ(WIFEXITED(t.client_status), 1);
  ASSERT_EQ(WEXITSTATUS(t.client_status), 0);
}

static int connect_to(int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t) port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr*) &sa, sizeof(sa)) != 0)
    return -1;
  return fd;
}

/* Sends `request` and reads the answer into `buf` until the server
 * closes. Returns its length, or -1. */
static ssize_t exchange(int port, const char* request, char* buf, size_t size) {
  size_t got = 0;
  ssize_t n;
  int fd = connect_to(port);
  if (fd < 0 || write(fd, request, strlen(request)) < 0)
    return -1;
  while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
    got += (size_t) n;
  buf[got] = '\0';
  close(fd);
  return (ssize_t) got;
}

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "client: %s:%d: %s\n%s\n", __FILE__, __LINE__, #cond, \
              buf);                                                         \
      return 1;                                                             \
    }                                                                       \
  } while (0)

static int has_security_headers(const char* buf) {
  return strstr(buf, "\r\nX-Content-Type-Options: nosniff\r\n") != NULL &&
         strstr(buf, "\r\nContent-Security-Policy: default-src 'none'; ") !=
             NULL &&
         strstr(buf, "\r\nCache-Control: no-store\r\n") != NULL;
}

static int routes_client(int port) {
  char buf[4096];
  char req[256];
  snprintf(req, sizeof(req),
           "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
  CHECK(exchange(port, req, buf, sizeof(buf)) > 0);
  CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
  CHECK(strstr(buf, "Content-Type: text/plain; version=0.0.4\r\n") != NULL);
  CHECK(strstr(buf, "\r\n\r\nlooptrace_requests_total 1\n") != NULL);
  CHECK(has_security_headers(buf));

  snprintf(req, sizeof(req),
           "HEAD /metrics HTTP/1.1\r\nHost: localhost:%d\r\n\r\n", port);
  CHECK(exchange(port, req, buf, sizeof(buf)) > 0);
  CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
  CHECK(strstr(buf, "Content-Length: 27\r\n") != NULL);
  CHECK(strstr(buf, "\r\n\r\n")[4] == '\0');

  snprintf(req, sizeof(req),
           "GET /metrics/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
  CHECK(exchange(port, req, buf, sizeof(buf)) > 0);
  CHECK(strncmp(buf, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
  CHECK(has_security_headers(buf));

  CHECK(exchange(port, "GET /metrics HTTP/1.1\r\nHost: evil:80\r\n\r\n", buf,
                 sizeof(buf)) > 0);
  CHECK(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
  CHECK(has_security_headers(buf));
  return 0;
}

TEST_IMPL(http_server_routes) {
  serve_while(routes_client);
  ASSERT_EQ(t.calls, 2);
  ASSERT_EQ(t.server.requests, 4);
  return 0;
}

/* 300 connections that send nothing, then a request: it is answered, and
 * the server never held more than its cap. */
static int cap_client(int port) {
  char buf[4096];
  char req[256];
  int idle[300];
  size_t i;
  for (i = 0; i < 300; i++) {
    idle[i] = connect_to(port);
    CHECK(idle[i] >= 0);
  }
  usleep(200 * 1000);
  snprintf(req, sizeof(req),
           "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
  CHECK(exchange(port, req, buf, sizeof(buf)) > 0);
  CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
  for (i = 0; i < 300; i++)
    close(idle[i]);
  return 0;
}

TEST_IMPL(http_server_connection_cap) {
  serve_while(cap_client);
  ASSERT_LE(t.max_conns, HTTP_SERVER_MAX_CONNS);
  ASSERT_GE(t.server.evicted, 300 - HTTP_SERVER_MAX_CONNS + 1);
  ASSERT_EQ(t.calls, 1);
  return 0;
}
