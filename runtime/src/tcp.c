/* tcp.c — TCP servers and clients. Callbacks run in the poll phase; a
 * write that completes at once has its callback deferred by libuv to the
 * pending run after poll. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define READ_BUF_SIZE (64 * 1024)

static lrt_tcp_t* tcp_of(uv_handle_t* handle) {
  return container_of((uv_tcp_t*) handle, lrt_tcp_t, handle);
}

/* The caller's label, or the default for the kind of callback. */
static const char* label_for(const lrt_tcp_t* tcp, const char* fallback) {
  return tcp->label != NULL ? tcp->label : fallback;
}

/* Parses `ip`:`port` as IPv4, then IPv6. */
static int parse_addr(const char* ip, int port, struct sockaddr_storage* ss) {
  if (ip == NULL || port < 0 || port > 65535)
    return UV_EINVAL;
  if (uv_ip4_addr(ip, port, (struct sockaddr_in*) ss) == 0)
    return 0;
  if (uv_ip6_addr(ip, port, (struct sockaddr_in6*) ss) == 0)
    return 0;
  return UV_EINVAL;
}

int lrt_tcp_init(lrt_loop_t* loop, lrt_tcp_t* tcp) {
  int r;
  if (loop == NULL || loop->priv == NULL || tcp == NULL)
    return UV_EINVAL;
  memset(tcp, 0, sizeof(*tcp));
  r = uv_tcp_init(&loop->uv, &tcp->handle);
  if (r != 0)
    return r;
  tcp->loop = loop;
  return 0;
}

void lrt_tcp_set_label(lrt_tcp_t* tcp, const char* label) {
  if (tcp != NULL)
    tcp->label = label;
}

static void connection_cb(uv_stream_t* server, int status) {
  lrt_tcp_t* tcp = tcp_of((uv_handle_t*) server);
  LRT__RUN_CALLBACK(tcp->loop, LRT_CB_CONNECTION,
                    label_for(tcp, "tcp.connection"),
                    tcp->on_connection(tcp, status));
}

int lrt_tcp_listen(lrt_tcp_t* tcp, const char* ip, int port, int backlog,
                   lrt_connection_cb cb) {
  struct sockaddr_storage ss;
  int r;
  if (tcp == NULL || cb == NULL)
    return UV_EINVAL;
  r = parse_addr(ip, port, &ss);
  if (r != 0)
    return r;
  r = uv_tcp_bind(&tcp->handle, (const struct sockaddr*) &ss, 0);
  if (r != 0)
    return r;
  tcp->on_connection = cb;
  return uv_listen((uv_stream_t*) &tcp->handle, backlog, connection_cb);
}

int lrt_tcp_port(lrt_tcp_t* tcp) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int r;
  if (tcp == NULL)
    return UV_EINVAL;
  r = uv_tcp_getsockname(&tcp->handle, (struct sockaddr*) &ss, &len);
  if (r != 0)
    return r;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in*) &ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6*) &ss)->sin6_port);
  return UV_EINVAL;
}

int lrt_tcp_accept(lrt_tcp_t* server, lrt_tcp_t* client) {
  if (server == NULL || client == NULL || client->loop == NULL)
    return UV_EINVAL;
  return uv_accept((uv_stream_t*) &server->handle,
                   (uv_stream_t*) &client->handle);
}

static void connect_cb(uv_connect_t* req, int status) {
  lrt_tcp_t* tcp = container_of(req, lrt_tcp_t, connect_req);
  LRT__RUN_CALLBACK(tcp->loop, LRT_CB_CONNECT, label_for(tcp, "tcp.connect"),
                    tcp->on_connect(tcp, status));
}

int lrt_tcp_connect(lrt_tcp_t* tcp, const char* ip, int port,
                    lrt_connect_cb cb) {
  struct sockaddr_storage ss;
  int r;
  if (tcp == NULL || cb == NULL)
    return UV_EINVAL;
  r = parse_addr(ip, port, &ss);
  if (r != 0)
    return r;
  tcp->on_connect = cb;
  return uv_tcp_connect(&tcp->connect_req, &tcp->handle,
                        (const struct sockaddr*) &ss, connect_cb);
}

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  struct lrt__loop_private* p = tcp_of(handle)->loop->priv;
  if (p->read_buf == NULL)
    p->read_buf = malloc(READ_BUF_SIZE);
  buf->base = p->read_buf;
  buf->len = p->read_buf != NULL ? READ_BUF_SIZE : 0;
}

static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  lrt_tcp_t* tcp = tcp_of((uv_handle_t*) stream);
  /* libuv's "nothing this time" (EAGAIN), or no buffer: not the caller's
   * business. */
  if (nread == 0)
    return;
  if (nread == UV_ENOBUFS && buf->base == NULL)
    nread = UV_ENOMEM;
  LRT__RUN_CALLBACK(tcp->loop, LRT_CB_READ, label_for(tcp, "tcp.read"),
                    tcp->on_read(tcp, nread, buf->base));
}

int lrt_tcp_read_start(lrt_tcp_t* tcp, lrt_read_cb cb) {
  if (tcp == NULL || cb == NULL)
    return UV_EINVAL;
  tcp->on_read = cb;
  return uv_read_start((uv_stream_t*) &tcp->handle, alloc_cb, read_cb);
}

int lrt_tcp_read_stop(lrt_tcp_t* tcp) {
  if (tcp == NULL)
    return UV_EINVAL;
  return uv_read_stop((uv_stream_t*) &tcp->handle);
}

static void write_cb(uv_write_t* uvreq, int status) {
  lrt_write_t* req = container_of(uvreq, lrt_write_t, req);
  lrt_tcp_t* tcp = req->tcp;
  if (req->cb == NULL)
    return;
  /* req->cb may free req and close tcp */
  LRT__RUN_CALLBACK(tcp->loop, LRT_CB_WRITE, label_for(tcp, "tcp.write"),
                    req->cb(req, status));
}

int lrt_tcp_write(lrt_write_t* req, lrt_tcp_t* tcp, const void* data,
                  size_t len, lrt_write_cb cb) {
  uv_buf_t buf;
  if (req == NULL || tcp == NULL || (data == NULL && len > 0) ||
      len > UINT32_MAX)
    return UV_EINVAL;
  req->tcp = tcp;
  req->cb = cb;
  buf = uv_buf_init((char*) data, (unsigned int) len);
  return uv_write(&req->req, (uv_stream_t*) &tcp->handle, &buf, 1, write_cb);
}

static void close_cb(uv_handle_t* handle) {
  lrt_tcp_t* tcp = tcp_of(handle);
  if (tcp->on_close == NULL)
    return;
  /* tcp->on_close may free tcp */
  LRT__RUN_CALLBACK(tcp->loop, LRT_CB_CLOSE, label_for(tcp, "tcp.close"),
                    tcp->on_close(tcp));
}

void lrt_tcp_close(lrt_tcp_t* tcp, lrt_close_cb cb) {
  if (tcp == NULL || tcp->loop == NULL ||
      uv_is_closing((uv_handle_t*) &tcp->handle))
    return;
  tcp->on_close = cb;
  uv_close((uv_handle_t*) &tcp->handle, close_cb);
}
