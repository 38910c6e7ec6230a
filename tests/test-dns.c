/* test-dns.c — getaddrinfo on the pool. */
#include <arpa/inet.h>

#include "looprt.h"
#include "test.h"

static int calls;

static void resolved(lrt_dns_t* req) {
  calls++;
}

TEST_IMPL(dns_localhost) {
  lrt_loop_t loop;
  lrt_dns_t req;
  struct addrinfo hints;
  char ip[INET_ADDRSTRLEN];
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  calls = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(
      lrt_getaddrinfo(&loop, &req, "localhost", "80", &hints, resolved, NULL),
      0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(req.result, 0);
  ASSERT_NOT_NULL(req.addrinfo);
  ASSERT_EQ(req.addrinfo->ai_family, AF_INET);
  inet_ntop(AF_INET, &((struct sockaddr_in*) req.addrinfo->ai_addr)->sin_addr,
            ip, sizeof(ip));
  ASSERT_STR_EQ(ip, "127.0.0.1");
  ASSERT_EQ(ntohs(((struct sockaddr_in*) req.addrinfo->ai_addr)->sin_port), 80);
  lrt_dns_cleanup(&req);
  ASSERT_NULL(req.addrinfo);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* An unresolvable name fails in the callback with a UV_EAI_* error (the
 * .invalid TLD never resolves; with no network the lookup fails fast). */
TEST_IMPL(dns_failure_in_callback) {
  lrt_loop_t loop;
  lrt_dns_t req;
  calls = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_getaddrinfo(&loop, &req, "no-such-host.invalid", NULL, NULL,
                            resolved, NULL),
            0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(calls, 1);
  ASSERT(req.result == UV_EAI_NONAME || req.result == UV_EAI_AGAIN ||
         req.result == UV_EAI_FAIL || req.result == UV_EAI_NODATA);
  ASSERT_NULL(req.addrinfo);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

static void never(lrt_dns_t* req) {
  TEST_FAIL_("callback of a failed call ran");
}

TEST_IMPL(dns_bad_arguments) {
  lrt_loop_t loop;
  lrt_dns_t req;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_getaddrinfo(&loop, &req, NULL, NULL, NULL, never, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_getaddrinfo(&loop, &req, "localhost", NULL, NULL, NULL, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}
