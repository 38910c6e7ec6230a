/* test-immediates.c — immediates, and how they order against timers. */
#include "looprt.h"
#include "test.h"

static char order[16];
static int norder;

static void note_immediate(lrt_immediate_t* imm) {
  order[norder++] = 'I';
}

static void note_timeout(lrt_timer_t* t) {
  order[norder++] = 'T';
}

static lrt_timer_t io_timer;
static lrt_immediate_t io_immediate;

/* Inside an I/O callback (poll phase) the check phase comes before the
 * next timers phase: the immediate always wins. */
static void io_done(lrt_fs_t* req) {
  lrt_loop_t* loop = req->data;
  ASSERT_GE(req->result, 0);
  ASSERT_EQ(lrt_timeout(loop, &io_timer, 0, note_timeout, NULL), 0);
  ASSERT_EQ(lrt_immediate(loop, &io_immediate, note_immediate, NULL), 0);
}

TEST_IMPL(immediate_before_timeout_in_io_callback) {
  int round;
  for (round = 0; round < 20; round++) {
    lrt_loop_t loop;
    lrt_fs_t req;
    norder = 0;
    ASSERT_EQ(lrt_loop_init(&loop), 0);
    req.data = &loop;
    ASSERT_EQ(lrt_fs_stat(&loop, &req, "/", io_done, NULL), 0);
    ASSERT_EQ(lrt_run(&loop), 0);
    order[norder] = '\0';
    ASSERT_STR_EQ(order, "IT");
    ASSERT_EQ(lrt_loop_close(&loop), 0);
  }
  return 0;
}

/* Immediates run in the order they were set; one set from an immediate
 * callback runs in the next tick, after the timers that came due. */
static lrt_immediate_t chain[3];
static lrt_timer_t between;
static lrt_loop_t* chain_loop;

static void chain_second(lrt_immediate_t* imm) {
  order[norder++] = '2';
}

static void chain_first(lrt_immediate_t* imm) {
  order[norder++] = '1';
  /* Queued now, run next tick. */
  ASSERT_EQ(lrt_immediate(chain_loop, &chain[2], chain_second, NULL), 0);
}

static void chain_plain(lrt_immediate_t* imm) {
  order[norder++] = 'b';
}

TEST_IMPL(immediate_order_and_next_tick) {
  lrt_loop_t loop;
  norder = 0;
  chain_loop = &loop;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_immediate(&loop, &chain[0], chain_first, NULL), 0);
  ASSERT_EQ(lrt_immediate(&loop, &chain[1], chain_plain, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  order[norder] = '\0';
  ASSERT_STR_EQ(order, "1b2");
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  (void) between;
  return 0;
}

TEST_IMPL(immediate_clear) {
  lrt_loop_t loop;
  lrt_immediate_t a, b;
  norder = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_immediate(&loop, &a, note_immediate, NULL), 0);
  ASSERT_EQ(lrt_immediate(&loop, &b, note_immediate, NULL), 0);
  lrt_immediate_clear(&a);
  lrt_immediate_clear(&a);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(norder, 1);
  /* Clearing the only one lets the loop end at once. */
  ASSERT_EQ(lrt_immediate(&loop, &a, note_immediate, NULL), 0);
  lrt_immediate_clear(&a);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(norder, 1);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

TEST_IMPL(immediate_bad_arguments) {
  lrt_loop_t loop;
  lrt_immediate_t imm;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_immediate(&loop, &imm, NULL, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_immediate(NULL, &imm, note_immediate, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}
