/* test-loop.c — running, stopping and closing a loop; plain libuv code on
 * it. */
#include "looprt.h"
#include "test.h"

TEST_IMPL(loop_empty_run_returns) {
  lrt_loop_t loop;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

static int stopped_ticks;

static void stop_soon(lrt_timer_t* t) {
  lrt_loop_t* loop = t->data;
  if (++stopped_ticks == 3)
    lrt_stop(loop);
}

TEST_IMPL(loop_stop_and_resume) {
  lrt_loop_t loop;
  lrt_timer_t t;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  t.data = &loop;
  ASSERT_EQ(lrt_interval(&loop, &t, 1, stop_soon, NULL), 0);
  /* Stopped with the interval still pending. */
  ASSERT_EQ(lrt_run(&loop), 1);
  ASSERT_EQ(stopped_ticks, 3);
  lrt_timer_clear(&t);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* Plain libuv handles on a looprt loop run, and lrt_loop_close() closes
 * what the caller left open. */
static int idle_runs;
static void idle_cb(uv_idle_t* h) {
  if (++idle_runs == 3)
    uv_idle_stop(h);
}

static void never_timer(uv_timer_t* h) {
  TEST_FAIL_("unref'd timer kept the loop alive");
}

TEST_IMPL(loop_plain_libuv_handles) {
  lrt_loop_t loop;
  uv_idle_t idle;
  uv_timer_t left_open;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(uv_idle_init(lrt_uv_loop(&loop), &idle), 0);
  ASSERT_EQ(uv_idle_start(&idle, idle_cb), 0);
  ASSERT_EQ(uv_timer_init(lrt_uv_loop(&loop), &left_open), 0);
  ASSERT_EQ(uv_timer_start(&left_open, never_timer, 100000, 0), 0);
  uv_unref((uv_handle_t*) &left_open);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(idle_runs, 3);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

TEST_IMPL(loop_bad_arguments) {
  ASSERT_EQ(lrt_loop_init(NULL), UV_EINVAL);
  ASSERT_EQ(lrt_run(NULL), UV_EINVAL);
  ASSERT_EQ(lrt_loop_close(NULL), UV_EINVAL);
  ASSERT_NULL(lrt_uv_loop(NULL));
  lrt_stop(NULL);
  return 0;
}

TEST_IMPL(version_string) {
  ASSERT_NOT_NULL(lrt_version());
  ASSERT_GT(strlen(lrt_version()), 4);
  return 0;
}
