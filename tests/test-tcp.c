/* test-tcp.c — a TCP round trip, and its failures. */
#include "looprt.h"
#include "test.h"

#define PAYLOAD_SIZE (256 * 1024)

static struct {
  lrt_loop_t loop;
  lrt_tcp_t server;
  lrt_tcp_t served;
  lrt_tcp_t client;
  lrt_write_t echo_req;
  lrt_write_t send_req;
  char* payload;
  char* echoed; /* what the server received, echoed back at EOF */
  size_t server_got;
  char* received;
  size_t client_got;
  int closes;
  int connect_status;
} t;

static void closed(lrt_tcp_t* tcp) {
  t.closes++;
}

static void echoed(lrt_write_t* req, int status) {
  ASSERT_EQ(status, 0);
  lrt_tcp_close(&t.served, closed);
  lrt_tcp_close(&t.server, closed);
}

static void server_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  if (nread == UV_EOF) {
    ASSERT_EQ(lrt_tcp_write(&t.echo_req, tcp, t.echoed, t.server_got, echoed),
              0);
    return;
  }
  ASSERT_GT(nread, 0);
  ASSERT_LE(t.server_got + (size_t) nread, PAYLOAD_SIZE);
  memcpy(t.echoed + t.server_got, data, (size_t) nread);
  t.server_got += (size_t) nread;
}

static void on_connection(lrt_tcp_t* server, int status) {
  ASSERT_EQ(status, 0);
  ASSERT_EQ(lrt_tcp_init(&t.loop, &t.served), 0);
  ASSERT_EQ(lrt_tcp_accept(server, &t.served), 0);
  ASSERT_EQ(lrt_tcp_read_start(&t.served, server_read), 0);
}

static void client_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  if (nread == UV_EOF) {
    lrt_tcp_close(tcp, closed);
    return;
  }
  ASSERT_GT(nread, 0);
  ASSERT_LE(t.client_got + (size_t) nread, PAYLOAD_SIZE);
  memcpy(t.received + t.client_got, data, (size_t) nread);
  t.client_got += (size_t) nread;
}

static void shut_down(uv_shutdown_t* req, int status) {
  ASSERT_EQ(status, 0);
  free(req);
}

static void sent(lrt_write_t* req, int status) {
  /* Half-close (plain libuv on a looprt handle), so that the server reads
   * to the end and echoes everything back. */
  uv_shutdown_t* sr = malloc(sizeof(*sr));
  ASSERT_EQ(status, 0);
  ASSERT_EQ(uv_shutdown(sr, (uv_stream_t*) &t.client.handle, shut_down), 0);
}

static void connected(lrt_tcp_t* tcp, int status) {
  t.connect_status = status;
  ASSERT_EQ(status, 0);
  ASSERT_EQ(lrt_tcp_read_start(tcp, client_read), 0);
  ASSERT_EQ(lrt_tcp_write(&t.send_req, tcp, t.payload, PAYLOAD_SIZE, sent), 0);
}

TEST_IMPL(tcp_round_trip) {
  size_t i;
  int port;
  memset(&t, 0, sizeof(t));
  t.payload = malloc(PAYLOAD_SIZE);
  t.echoed = malloc(PAYLOAD_SIZE);
  t.received = malloc(PAYLOAD_SIZE);
  for (i = 0; i < PAYLOAD_SIZE; i++)
    t.payload[i] = (char) (i * 7 + 3);
  ASSERT_EQ(lrt_loop_init(&t.loop), 0);
  ASSERT_EQ(lrt_tcp_init(&t.loop, &t.server), 0);
  ASSERT_EQ(lrt_tcp_listen(&t.server, "127.0.0.1", 0, 16, on_connection), 0);
  port = lrt_tcp_port(&t.server);
  ASSERT_GT(port, 0);
  ASSERT_EQ(lrt_tcp_init(&t.loop, &t.client), 0);
  ASSERT_EQ(lrt_tcp_connect(&t.client, "127.0.0.1", port, connected), 0);
  ASSERT_EQ(lrt_run(&t.loop), 0);
  ASSERT_EQ(t.server_got, PAYLOAD_SIZE);
  ASSERT_EQ(t.client_got, PAYLOAD_SIZE);
  ASSERT_MEM_EQ(t.received, t.payload, PAYLOAD_SIZE);
  ASSERT_EQ(t.closes, 3);
  ASSERT_EQ(lrt_loop_close(&t.loop), 0);
  free(t.payload);
  free(t.echoed);
  free(t.received);
  return 0;
}

static void refused(lrt_tcp_t* tcp, int status) {
  t.connect_status = status;
  lrt_tcp_close(tcp, closed);
}

TEST_IMPL(tcp_connect_refused) {
  lrt_tcp_t probe;
  int port;
  memset(&t, 0, sizeof(t));
  ASSERT_EQ(lrt_loop_init(&t.loop), 0);
  /* A port that was free a moment ago: bind, read it, close. */
  ASSERT_EQ(lrt_tcp_init(&t.loop, &probe), 0);
  ASSERT_EQ(lrt_tcp_listen(&probe, "127.0.0.1", 0, 1, on_connection), 0);
  port = lrt_tcp_port(&probe);
  lrt_tcp_close(&probe, NULL);
  ASSERT_EQ(lrt_run(&t.loop), 0);

  ASSERT_EQ(lrt_tcp_init(&t.loop, &t.client), 0);
  ASSERT_EQ(lrt_tcp_connect(&t.client, "127.0.0.1", port, refused), 0);
  ASSERT_EQ(lrt_run(&t.loop), 0);
  ASSERT_EQ(t.connect_status, UV_ECONNREFUSED);
  ASSERT_EQ(t.closes, 1);
  ASSERT_EQ(lrt_loop_close(&t.loop), 0);
  return 0;
}

static void never_connect(lrt_tcp_t* tcp, int status) {
  TEST_FAIL_("callback of a failed call ran");
}

TEST_IMPL(tcp_bad_arguments) {
  lrt_loop_t loop;
  lrt_tcp_t tcp;
  lrt_write_t w;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_tcp_init(&loop, &tcp), 0);
  ASSERT_EQ(lrt_tcp_connect(&tcp, "not an address", 80, never_connect),
            UV_EINVAL);
  ASSERT_EQ(lrt_tcp_connect(&tcp, "127.0.0.1", 70000, never_connect),
            UV_EINVAL);
  ASSERT_EQ(lrt_tcp_listen(&tcp, "127.0.0.1", 0, 1, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_tcp_write(&w, &tcp, NULL, 3, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_tcp_init(NULL, &tcp), UV_EINVAL);
  lrt_tcp_close(&tcp, NULL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}
