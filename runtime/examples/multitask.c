/* multitask — Node's multitask lesson in C: a network request, a file read
 * and four pbkdf2 calls, all started at once.
 *
 *   Request: 3 ms      the request needs the pool only for its lookup
 *   Hash: 80 ms
 *   FS: 81 ms          the file read waited behind the hashes...
 *   Hash: 81 ms
 *   ...
 *
 * Like Node's fs.readFile, the read takes two trips to the threadpool (a
 * stat, then the read). The stat goes first and returns at once, but by
 * then the four hashes hold all four threads (UV_THREADPOOL_SIZE=4), so
 * the read waits until a hash finishes. The request resolves "localhost"
 * on the pool too, then talks TCP to a small server in this process,
 * which needs no pool thread at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looprt.h"

#define HASHES 4

static struct {
  lrt_loop_t loop;
  lrt_tcp_t server;
  lrt_tcp_t served;
  lrt_write_t response;
  lrt_dns_t lookup;
  lrt_tcp_t client;
  lrt_write_t request;
  lrt_fs_t stat;
  lrt_fs_t read;
  lrt_pbkdf2_t hash[HASHES];
  unsigned char key[HASHES][64];
  uint64_t start;
  size_t response_bytes;
  const char* path;
} app;

static const char response[] = "HTTP/1.0 200 OK\r\n\r\nhello from the server";

static void check(int r, const char* what) {
  if (r != 0) {
    fprintf(stderr, "multitask: %s: %s\n", what, uv_strerror(r));
    exit(1);
  }
}

static void report(const char* what) {
  printf("%s: %llu ms\n", what,
         (unsigned long long) (lrt_now(&app.loop) - app.start));
  fflush(stdout);
}

/* The server: answer one request, then close. */
static void response_sent(lrt_write_t* req, int status) {
  lrt_tcp_close(&app.served, NULL);
  lrt_tcp_close(&app.server, NULL);
}

static void server_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  if (nread > 0 && memchr(data, '\n', (size_t) nread) != NULL) {
    lrt_tcp_read_stop(tcp);
    check(lrt_tcp_write(&app.response, tcp, response, sizeof(response) - 1,
                        response_sent),
          "respond");
  }
}

static void on_connection(lrt_tcp_t* server, int status) {
  check(status, "connection");
  check(lrt_tcp_init(&app.loop, &app.served), "init");
  check(lrt_tcp_accept(server, &app.served), "accept");
  check(lrt_tcp_read_start(&app.served, server_read), "read");
}

/* The client: lookup, connect, ask, read to the end. */
static void client_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  if (nread > 0) {
    app.response_bytes += (size_t) nread;
    return;
  }
  if (nread != UV_EOF)
    check((int) nread, "read response");
  report("Request");
  lrt_tcp_close(tcp, NULL);
}

static void connected(lrt_tcp_t* tcp, int status) {
  static const char request[] = "GET / HTTP/1.0\r\n\r\n";
  check(status, "connect");
  check(lrt_tcp_read_start(tcp, client_read), "read");
  check(lrt_tcp_write(&app.request, tcp, request, sizeof(request) - 1, NULL),
        "request");
}

static void looked_up(lrt_dns_t* req) {
  char ip[64];
  struct addrinfo* ai;
  check(req->result, "getaddrinfo");
  for (ai = req->addrinfo; ai != NULL; ai = ai->ai_next)
    if (ai->ai_family == AF_INET)
      break;
  if (ai == NULL) {
    fprintf(stderr, "multitask: localhost has no IPv4 address\n");
    exit(1);
  }
  uv_ip4_name((struct sockaddr_in*) ai->ai_addr, ip, sizeof(ip));
  lrt_dns_cleanup(req);
  check(lrt_tcp_init(&app.loop, &app.client), "init");
  check(lrt_tcp_connect(&app.client, ip, lrt_tcp_port(&app.server), connected),
        "connect");
}

static void file_read(lrt_fs_t* req) {
  check(req->result < 0 ? (int) req->result : 0, "read");
  lrt_fs_cleanup(req);
  report("FS");
}

static void file_stat(lrt_fs_t* req) {
  check((int) req->result, "stat");
  check(lrt_fs_read_file(&app.loop, &app.read, app.path, file_read, NULL),
        "readFile");
}

static void hashed(lrt_pbkdf2_t* req) {
  check(req->result, "pbkdf2");
  report("Hash");
}

int main(int argc, char** argv) {
  char port[16];
  int i;

  if (argc > 1) {
    printf(
        "usage: multitask\n"
        "Starts a request to a local server, a file read and four pbkdf2 "
        "calls at\nonce, and prints when each finished. The file read "
        "waits for the pool.\n");
    return strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  app.path = "/proc/self/exe";
  check(lrt_loop_init(&app.loop), "loop");
  check(lrt_tcp_init(&app.loop, &app.server), "init");
  check(lrt_tcp_listen(&app.server, "127.0.0.1", 0, 8, on_connection),
        "listen");
  snprintf(port, sizeof(port), "%d", lrt_tcp_port(&app.server));

  app.start = lrt_now(&app.loop);
  check(lrt_getaddrinfo(&app.loop, &app.lookup, "localhost", port, NULL,
                        looked_up, NULL),
        "getaddrinfo");
  check(lrt_fs_stat(&app.loop, &app.stat, app.path, file_stat, NULL), "stat");
  for (i = 0; i < HASHES; i++)
    check(lrt_pbkdf2(&app.loop, &app.hash[i], "a", 1, "b", 1, 100000, "sha512",
                     app.key[i], sizeof(app.key[i]), hashed, "pbkdf2"),
          "pbkdf2");
  lrt_run(&app.loop);
  check(lrt_loop_close(&app.loop), "close");
  return 0;
}
