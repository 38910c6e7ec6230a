/* echo_client.c — load for an echo server on 127.0.0.1.
 *
 *   echo_client PORT CONNECTIONS ROUND_TRIPS [BYTES]
 *
 * Opens CONNECTIONS connections; each sends BYTES (default 64), waits
 * until they all came back, and sends again, until ROUND_TRIPS round trips
 * were made over all connections. Plain epoll, one thread, so that the
 * client's own cost is small and does not depend on looprt or libuv.
 *
 * Prints wall_ns and round_trips on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BYTES 4096

struct conn {
  int fd;
  size_t received; /* of the current round trip */
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void die(const char* what) {
  fprintf(stderr, "echo_client: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int connect_to(int port) {
  struct sockaddr_in addr;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    die("socket");
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t) port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*) &addr, sizeof(addr)) != 0)
    die("connect");
  /* Small messages must leave at once, as a request/response client's. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static void send_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      die("write");
    }
    buf += n;
    len -= (size_t) n;
  }
}

int main(int argc, char** argv) {
  static char msg[MAX_BYTES];
  static char buf[MAX_BYTES];
  struct epoll_event events[256];
  struct conn* conns;
  uint64_t target;
  uint64_t sent = 0;
  uint64_t done = 0;
  uint64_t t0;
  size_t bytes = 64;
  int nconn;
  int port;
  int ep;
  int i;

  if (argc < 4) {
    fprintf(stderr,
            "usage: echo_client PORT CONNECTIONS ROUND_TRIPS "
            "[BYTES]\n");
    return 2;
  }
  port = atoi(argv[1]);
  nconn = atoi(argv[2]);
  target = strtoull(argv[3], NULL, 10);
  if (argc > 4)
    bytes = (size_t) atoi(argv[4]);
  if (nconn < 1 || bytes < 1 || bytes > MAX_BYTES || target < 1) {
    fprintf(stderr, "echo_client: bad arguments\n");
    return 2;
  }
  memset(msg, 'x', bytes);

  conns = calloc((size_t) nconn, sizeof(*conns));
  ep = epoll_create1(0);
  if (conns == NULL || ep < 0)
    die("setup");
  for (i = 0; i < nconn; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    conns[i].fd = connect_to(port);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0)
      die("epoll_ctl");
  }

  t0 = now_ns();
  for (i = 0; i < nconn && sent < target; i++, sent++)
    send_all(conns[i].fd, msg, bytes);
  while (done < target) {
    int n = epoll_wait(ep, events, 256, 5000);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      die("epoll_wait (no answer in 5 s)");
    for (i = 0; i < n; i++) {
      struct conn* c = events[i].data.ptr;
      ssize_t got = read(c->fd, buf, sizeof(buf));
      if (got <= 0) {
        errno = got == 0 ? ECONNRESET : errno;
        die("read");
      }
      c->received += (size_t) got;
      if (c->received < bytes)
        continue;
      c->received -= bytes;
      done++;
      if (sent < target) {
        sent++;
        send_all(c->fd, msg, bytes);
      }
    }
  }
  printf("wall_ns: %llu\n", (unsigned long long) (now_ns() - t0));
  printf("round_trips: %llu\n", (unsigned long long) done);
  for (i = 0; i < nconn; i++)
    close(conns[i].fd);
  free(conns);
  close(ep);
  return 0;
}
