/* echo — a TCP echo server for load tests and for attaching a tracer to:
 * it sends back every byte it receives, until SIGINT or SIGTERM.
 *
 *   $ build/examples/echo --port 7000
 *   echo: listening on 127.0.0.1:7000
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looprt.h"

struct conn {
  lrt_tcp_t tcp;
};

/* One write in flight per chunk read; the data is copied. */
struct echo_write {
  lrt_write_t req;
  struct conn* conn;
  char data[];
};

static struct {
  lrt_loop_t loop;
  lrt_tcp_t server;
  lrt_signal_t sigint;
  lrt_signal_t sigterm;
  unsigned long connections;
  unsigned long long bytes;
  int open;
} app;

static void conn_closed(lrt_tcp_t* tcp) {
  free(tcp->data);
  app.open--;
}

static void written(lrt_write_t* req, int status) {
  struct echo_write* w = req->data;
  if (status != 0)
    lrt_tcp_close(&w->conn->tcp, conn_closed);
  free(w);
}

static void on_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  struct conn* c = tcp->data;
  struct echo_write* w;
  if (nread < 0) {
    lrt_tcp_close(tcp, conn_closed);
    return;
  }
  w = malloc(sizeof(*w) + (size_t) nread);
  if (w == NULL) {
    lrt_tcp_close(tcp, conn_closed);
    return;
  }
  memcpy(w->data, data, (size_t) nread);
  w->conn = c;
  w->req.data = w;
  app.bytes += (unsigned long long) nread;
  if (lrt_tcp_write(&w->req, tcp, w->data, (size_t) nread, written) != 0) {
    free(w);
    lrt_tcp_close(tcp, conn_closed);
  }
}

static void on_connection(lrt_tcp_t* server, int status) {
  struct conn* c;
  if (status != 0)
    return;
  c = calloc(1, sizeof(*c));
  if (c == NULL || lrt_tcp_init(&app.loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  c->tcp.data = c;
  lrt_tcp_set_label(&c->tcp, "echo");
  if (lrt_tcp_accept(server, &c->tcp) != 0 ||
      lrt_tcp_read_start(&c->tcp, on_read) != 0) {
    lrt_tcp_close(&c->tcp, conn_closed);
    app.open++;
    return;
  }
  app.connections++;
  app.open++;
}

static void on_signal(lrt_signal_t* sig, int signum) {
  lrt_stop(&app.loop);
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: echo [--host IP] [--port N]\n"
          "Echoes back whatever TCP clients send, until SIGINT or "
          "SIGTERM.\n"
          "  --host IP   address to listen on (default 127.0.0.1)\n"
          "  --port N    port (default 0: any free port; printed)\n");
}

int main(int argc, char** argv) {
  static const struct option options[] = {
      {"host", required_argument, NULL, 'H'},
      {"port", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char* host = "127.0.0.1";
  int port = 0;
  int c;
  int r;

  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (c) {
    case 'H':
      host = optarg;
      break;
    case 'p':
      port = atoi(optarg);
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  r = lrt_loop_init(&app.loop);
  if (r == 0)
    r = lrt_tcp_init(&app.loop, &app.server);
  if (r == 0)
    r = lrt_tcp_listen(&app.server, host, port, 128, on_connection);
  if (r != 0) {
    fprintf(stderr, "echo: cannot listen on %s:%d: %s\n", host, port,
            uv_strerror(r));
    return 1;
  }
  lrt_signal_start(&app.loop, &app.sigint, SIGINT, on_signal, "SIGINT");
  lrt_signal_start(&app.loop, &app.sigterm, SIGTERM, on_signal, "SIGTERM");
  printf("echo: listening on %s:%d\n", host, lrt_tcp_port(&app.server));
  fflush(stdout);
  lrt_run(&app.loop);
  printf("echo: %lu connections, %llu bytes echoed\n", app.connections,
         app.bytes);
  lrt_loop_close(&app.loop);
  return 0;
}
