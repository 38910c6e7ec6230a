/* threads — Node's threadpool lesson in C: pbkdf2 (sha512, 100000
 * iterations) five times at once on libuv's pool. With four pool threads
 * the first four run together and the fifth waits for a free thread, which
 * its time shows:
 *
 *   $ UV_THREADPOOL_SIZE=4 build/examples/threads
 *   pbkdf2 #2: 83 ms
 *   ...
 *   pbkdf2 #5: 124 ms
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looprt.h"

struct hash {
  lrt_pbkdf2_t req;
  unsigned char key[1024];
  int number;
};

static struct {
  lrt_loop_t loop;
  lrt_timer_t pause;
  struct hash* hashes;
  int tasks;
  int iterations;
  int keylen;
  int rounds; /* 0: forever */
  int pause_ms;
  int round;
  int pending;
  uint64_t start_ms;
} app;

static void start_round(void);
static void next_round(lrt_timer_t* timer);

static void hash_done(lrt_pbkdf2_t* req) {
  struct hash* h = req->data;
  if (req->result != 0) {
    fprintf(stderr, "threads: pbkdf2 #%d failed: %s\n", h->number,
            uv_strerror(req->result));
    exit(1);
  }
  printf("pbkdf2 #%d: %llu ms\n", h->number,
         (unsigned long long) (lrt_now(&app.loop) - app.start_ms));
  fflush(stdout);
  if (--app.pending > 0)
    return;
  if (app.rounds == 0 || ++app.round < app.rounds)
    lrt_timeout(&app.loop, &app.pause, (uint64_t) app.pause_ms, next_round,
                "next round");
}

static void next_round(lrt_timer_t* timer) {
  start_round();
}

static void start_round(void) {
  int i;
  uv_update_time(lrt_uv_loop(&app.loop));
  app.start_ms = lrt_now(&app.loop);
  app.pending = app.tasks;
  for (i = 0; i < app.tasks; i++) {
    struct hash* h = &app.hashes[i];
    int r;
    h->number = i + 1;
    h->req.data = h;
    r = lrt_pbkdf2(&app.loop, &h->req, "a", 1, "b", 1,
                   (unsigned) app.iterations, "sha512", h->key,
                   (size_t) app.keylen, hash_done, "pbkdf2");
    if (r != 0) {
      fprintf(stderr, "threads: pbkdf2: %s\n", uv_strerror(r));
      exit(1);
    }
  }
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: threads [OPTIONS]\n"
          "Runs pbkdf2 (sha512) several times at once on libuv's threadpool\n"
          "and prints when each call finished, in ms since they started.\n\n"
          "  --tasks N        calls at once (default 5)\n"
          "  --iterations N   pbkdf2 iterations (default 100000)\n"
          "  --keylen N       key length in bytes, at most 1024 (default 64;\n"
          "                   Node's demo uses 512)\n"
          "  --rounds N       repeat N times, 0 = until killed (default 1)\n"
          "  --pause MS       pause between rounds (default 100)\n"
          "  --help           this text\n\n"
          "The pool has UV_THREADPOOL_SIZE threads (default 4); this run has "
          "%d.\n",
          lrt_threadpool_size());
}

int main(int argc, char** argv) {
  static const struct option options[] = {
      {"tasks", required_argument, NULL, 't'},
      {"iterations", required_argument, NULL, 'i'},
      {"keylen", required_argument, NULL, 'k'},
      {"rounds", required_argument, NULL, 'r'},
      {"pause", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  int r;

  app.tasks = 5;
  app.iterations = 100000;
  app.keylen = 64;
  app.rounds = 1;
  app.pause_ms = 100;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (c) {
    case 't':
      app.tasks = atoi(optarg);
      break;
    case 'i':
      app.iterations = atoi(optarg);
      break;
    case 'k':
      app.keylen = atoi(optarg);
      break;
    case 'r':
      app.rounds = atoi(optarg);
      break;
    case 'p':
      app.pause_ms = atoi(optarg);
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (app.tasks < 1 || app.iterations < 1 || app.keylen < 1 ||
      app.keylen > 1024 || app.rounds < 0 || app.pause_ms < 0) {
    usage(stderr);
    return 2;
  }
  app.hashes = calloc((size_t) app.tasks, sizeof(*app.hashes));
  if (app.hashes == NULL)
    return 1;
  r = lrt_loop_init(&app.loop);
  if (r != 0) {
    fprintf(stderr, "threads: %s\n", uv_strerror(r));
    return 1;
  }
  start_round();
  lrt_run(&app.loop);
  lrt_loop_close(&app.loop);
  free(app.hashes);
  return 0;
}
