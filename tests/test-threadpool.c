/* test-threadpool.c — work on the pool, its handoff and cancellation. */
#include <pthread.h>
#include <unistd.h>

#include "looprt.h"
#include "test.h"

struct task {
  lrt_work_t work;
  pthread_t loop_thread;
  pthread_t ran_on;
  pthread_t done_on;
  int ran;
  int done;
  int status;
};

static void run_task(lrt_work_t* w) {
  struct task* t = w->data;
  t->ran_on = pthread_self();
  t->ran++;
}

static void task_done(lrt_work_t* w, int status) {
  struct task* t = w->data;
  t->done_on = pthread_self();
  t->status = status;
  t->done++;
}

TEST_IMPL(work_runs_on_worker_and_completes_on_loop) {
  lrt_loop_t loop;
  struct task tasks[8];
  int i;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  for (i = 0; i < 8; i++) {
    memset(&tasks[i], 0, sizeof(tasks[i]));
    tasks[i].work.data = &tasks[i];
    tasks[i].loop_thread = pthread_self();
    ASSERT_EQ(
        lrt_work_submit(&loop, &tasks[i].work, run_task, task_done, "task"), 0);
  }
  ASSERT_EQ(lrt_run(&loop), 0);
  for (i = 0; i < 8; i++) {
    ASSERT_EQ(tasks[i].ran, 1);
    ASSERT_EQ(tasks[i].done, 1);
    ASSERT_EQ(tasks[i].status, 0);
    ASSERT(!pthread_equal(tasks[i].ran_on, tasks[i].loop_thread));
    ASSERT(pthread_equal(tasks[i].done_on, tasks[i].loop_thread));
  }
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* With one pool thread, tasks run in submission order, and each one's
 * completion comes after its work. */
static int sequence[16];
static int nsequence;

static void ordered_run(lrt_work_t* w) {
  sequence[nsequence++] = (int) (intptr_t) w->data;
}

static void ordered_done(lrt_work_t* w, int status) {
  sequence[nsequence++] = 100 + (int) (intptr_t) w->data;
}

TEST_IMPL(work_order_with_one_thread) {
  lrt_loop_t loop;
  lrt_work_t w[3];
  int i;
  /* The pool is started on first use, in this (forked) test process. */
  setenv("UV_THREADPOOL_SIZE", "1", 1);
  ASSERT_EQ(lrt_threadpool_size(), 1);
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  for (i = 0; i < 3; i++) {
    w[i].data = (void*) (intptr_t) i;
    ASSERT_EQ(lrt_work_submit(&loop, &w[i], ordered_run, ordered_done, NULL),
              0);
  }
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(nsequence, 6);
  for (i = 0; i < 3; i++) {
    int run_at = -1, done_at = -1, k;
    for (k = 0; k < nsequence; k++) {
      if (sequence[k] == i)
        run_at = k;
      if (sequence[k] == 100 + i)
        done_at = k;
    }
    ASSERT_GE(run_at, 0);
    ASSERT_GT(done_at, run_at);
    if (i > 0) {
      int k2, prev_run = -1;
      for (k2 = 0; k2 < nsequence; k2++)
        if (sequence[k2] == i - 1)
          prev_run = k2;
      ASSERT_LT(prev_run, run_at);
    }
  }
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* A task queued behind a blocked worker can be cancelled: its done
 * callback gets UV_ECANCELED and its work never runs. */
static int gate_open;
static void wait_for_gate(lrt_work_t* w) {
  while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
    usleep(1000);
}

static void open_gate(lrt_timer_t* t) {
  __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
}

TEST_IMPL(work_cancel) {
  lrt_loop_t loop;
  struct task blocker, victim;
  lrt_timer_t t;
  setenv("UV_THREADPOOL_SIZE", "1", 1);
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  memset(&blocker, 0, sizeof(blocker));
  memset(&victim, 0, sizeof(victim));
  blocker.work.data = &blocker;
  victim.work.data = &victim;
  ASSERT_EQ(lrt_work_submit(&loop, &blocker.work, wait_for_gate, task_done,
                            "blocker"),
            0);
  ASSERT_EQ(lrt_work_submit(&loop, &victim.work, run_task, task_done, "victim"),
            0);
  ASSERT_EQ(lrt_work_cancel(&victim.work), 0);
  ASSERT_EQ(lrt_timeout(&loop, &t, 20, open_gate, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(victim.ran, 0);
  ASSERT_EQ(victim.done, 1);
  ASSERT_EQ(victim.status, UV_ECANCELED);
  ASSERT_EQ(blocker.done, 1);
  ASSERT_EQ(blocker.status, 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

static void never_run(lrt_work_t* w) {
  TEST_FAIL_("work of a failed call ran");
}

static void never_done(lrt_work_t* w, int status) {
  TEST_FAIL_("callback of a failed call ran");
}

TEST_IMPL(work_bad_arguments) {
  lrt_loop_t loop;
  lrt_work_t w;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_work_submit(&loop, &w, NULL, never_done, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_work_submit(&loop, &w, never_run, NULL, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_work_submit(NULL, &w, never_run, never_done, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* lrt_loop_close() refuses while work is in flight, and works after. */
TEST_IMPL(loop_close_busy_with_work) {
  lrt_loop_t loop;
  struct task t;
  memset(&t, 0, sizeof(t));
  t.work.data = &t;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_work_submit(&loop, &t.work, run_task, task_done, NULL), 0);
  ASSERT_EQ(lrt_loop_close(&loop), UV_EBUSY);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(t.done, 1);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

TEST_IMPL(threadpool_size_rule) {
  unsetenv("UV_THREADPOOL_SIZE");
  ASSERT_EQ(lrt_threadpool_size(), 4);
  setenv("UV_THREADPOOL_SIZE", "0", 1);
  ASSERT_EQ(lrt_threadpool_size(), 1);
  setenv("UV_THREADPOOL_SIZE", "16", 1);
  ASSERT_EQ(lrt_threadpool_size(), 16);
  setenv("UV_THREADPOOL_SIZE", "5000", 1);
  ASSERT_EQ(lrt_threadpool_size(), 1024);
  return 0;
}
