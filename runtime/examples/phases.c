/* phases — the order of an event loop's phases, made visible.
 *
 * A TCP connection to ourselves is set up first. Then, from one file-read
 * callback (poll phase), it schedules one thing per phase and prints each
 * callback as it runs, with the phase it belongs to:
 *
 *   poll     fs.readFile callback: schedules the rest
 *   pending  tcp write callback (libuv defers it to the pending run)
 *   check    setImmediate
 *   close    close callback
 *   timers   setTimeout 0
 *   ...
 *
 * Inside an I/O callback, an immediate always runs before a 0 ms timeout:
 * check comes right after poll, timers only in the next tick. Plain libuv
 * idle and prepare handles show those two phases (libuv code runs on a
 * looprt loop unchanged; lrt_span_begin() names its callbacks in traces).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looprt.h"

static struct {
  lrt_loop_t loop;
  lrt_tcp_t server;
  lrt_tcp_t client;
  lrt_tcp_t accepted;
  lrt_tcp_t doomed; /* closed to show the close phase */
  lrt_fs_t read;
  lrt_write_t write;
  lrt_timer_t timeout;
  lrt_timer_t interval;
  lrt_immediate_t immediate;
  uv_idle_t idle;
  uv_prepare_t prepare;
  int interval_runs;
  const char* path;
} app;

static void say(const char* phase, const char* what) {
  printf("%-8s %s\n", phase, what);
  fflush(stdout);
}

static void check(int r, const char* what) {
  if (r != 0) {
    fprintf(stderr, "phases: %s: %s\n", what, uv_strerror(r));
    exit(1);
  }
}

static void interval_cb(lrt_timer_t* t) {
  say("timers", "setInterval 5 ms");
  if (++app.interval_runs == 2) {
    lrt_timer_clear(t);
    /* Done: let the loop end. */
    lrt_tcp_close(&app.client, NULL);
    lrt_tcp_close(&app.accepted, NULL);
    lrt_tcp_close(&app.server, NULL);
  }
}

static void timeout_cb(lrt_timer_t* t) {
  say("timers", "setTimeout 0");
  check(lrt_interval(&app.loop, &app.interval, 5, interval_cb, "interval"),
        "interval");
}

static void immediate_cb(lrt_immediate_t* imm) {
  say("check", "setImmediate");
}

static void doomed_closed(lrt_tcp_t* tcp) {
  say("close", "close callback");
}

static void write_done(lrt_write_t* req, int status) {
  check(status, "write");
  say("pending", "tcp write callback (libuv defers it to pending)");
}

static void file_read(lrt_fs_t* req) {
  check(req->result < 0 ? (int) req->result : 0, "read");
  lrt_fs_cleanup(req);
  say("poll", "fs.readFile callback: schedules one thing per phase");
  check(lrt_timeout(&app.loop, &app.timeout, 0, timeout_cb, "setTimeout 0"),
        "timeout");
  check(lrt_immediate(&app.loop, &app.immediate, immediate_cb, "setImmediate"),
        "immediate");
  check(lrt_tcp_write(&app.write, &app.client, "x", 1, write_done), "write");
  lrt_tcp_close(&app.doomed, doomed_closed);
}

static void idle_cb(uv_idle_t* handle) {
  lrt_span_begin(&app.loop, "uv_idle_t callback");
  say("idle", "uv_idle_t callback (plain libuv)");
  uv_idle_stop(handle);
  lrt_span_end(&app.loop);
}

static void prepare_cb(uv_prepare_t* handle) {
  lrt_span_begin(&app.loop, "uv_prepare_t callback");
  say("prepare", "uv_prepare_t callback (plain libuv)");
  uv_prepare_stop(handle);
  lrt_span_end(&app.loop);
}

static void on_read(lrt_tcp_t* tcp, ssize_t nread, const char* data) {
  /* The byte written above arrives; nothing to show. */
}

static void connected(lrt_tcp_t* tcp, int status) {
  check(status, "connect");
  say("poll", "tcp connect callback: reads a file");
  check(lrt_fs_read_file(&app.loop, &app.read, app.path, file_read, NULL),
        "readFile");
}

static void on_connection(lrt_tcp_t* server, int status) {
  check(status, "connection");
  check(lrt_tcp_init(&app.loop, &app.accepted), "init");
  check(lrt_tcp_accept(server, &app.accepted), "accept");
  check(lrt_tcp_read_start(&app.accepted, on_read), "read");
}

int main(int argc, char** argv) {
  uv_loop_t* uv;
  if (argc > 1) {
    printf(
        "usage: phases\n"
        "Prints callbacks in the order the event loop runs them, each "
        "with its phase.\nTrace it to see the phases around them: "
        "looptrace record -- phases\n");
    return strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  app.path = "/proc/self/exe";
  check(lrt_loop_init(&app.loop), "loop");
  uv = lrt_uv_loop(&app.loop);

  check(lrt_tcp_init(&app.loop, &app.server), "init");
  check(lrt_tcp_listen(&app.server, "127.0.0.1", 0, 8, on_connection),
        "listen");
  check(lrt_tcp_init(&app.loop, &app.client), "init");
  check(lrt_tcp_connect(&app.client, "127.0.0.1", lrt_tcp_port(&app.server),
                        connected),
        "connect");
  check(lrt_tcp_init(&app.loop, &app.doomed), "init");

  uv_idle_init(uv, &app.idle);
  uv_idle_start(&app.idle, idle_cb);
  uv_prepare_init(uv, &app.prepare);
  uv_prepare_start(&app.prepare, prepare_cb);

  lrt_run(&app.loop);
  check(lrt_loop_close(&app.loop), "close");
  return 0;
}
