/* fatal.c — a traced program that dies of a signal hands its records
 * over first.
 *
 * Records wait in per-thread rings for up to FLUSH_INTERVAL_NS (trace.c).
 * When a fatal signal (SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
 * SIGSYS) arrives while a tracer listens, our handler hands every ring
 * over (lrt__flush_fatal: async-signal safe, no lock it could wait on for
 * long), then does what would have happened without us: it calls the
 * program's own handler as that was installed (its mask, SA_SIGINFO,
 * SA_RESETHAND), or ignores the signal, or takes the default action by
 * raising it again with the default disposition.
 *
 * The handlers are installed when a session starts and removed when it
 * ends (if still ours): an untraced program's dispositions are never
 * touched, and a handler the program installs after the session began
 * simply wins (its records then go with the tracer's exit hand-over,
 * tracer/record.bpf.c). A process that dies without a signal handler
 * running (SIGKILL, _exit) is left to that hand-over as well.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "internal.h"

static const int fatal_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE,
                                    SIGILL,  SIGTRAP, SIGSYS};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

/* What each signal did before ours; read by the handler. */
static struct sigaction previous[NFATAL];
static int installed;

/* This thread is handing over already (a fault inside the hand-over). */
static __thread int handing_over __attribute__((tls_model("initial-exec")));

static int slot_of(int sig) {
  unsigned i;
  for (i = 0; i < NFATAL; i++)
    if (fatal_signals[i] == sig)
      return (int) i;
  return -1;
}

static void take_default(int sig) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  /* Blocked while we handle it: delivered, by default, as we return. */
  raise(sig);
}

/* Does what the disposition before ours would have done. */
static void chain(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction* prev = &previous[slot_of(sig)];
  sigset_t old;

  if (!(prev->sa_flags & SA_SIGINFO) && prev->sa_handler == SIG_IGN)
    return;
  if (!(prev->sa_flags & SA_SIGINFO) && prev->sa_handler == SIG_DFL) {
    take_default(sig);
    return;
  }
  if (prev->sa_flags & SA_RESETHAND) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
  }
  pthread_sigmask(SIG_BLOCK, &prev->sa_mask, &old);
  if (prev->sa_flags & SA_SIGINFO)
    prev->sa_sigaction(sig, info, uctx);
  else
    prev->sa_handler(sig);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void on_fatal(int sig, siginfo_t* info, void* uctx) {
  int saved_errno = errno;
  if (!handing_over) {
    handing_over = 1;
    lrt__flush_fatal();
    handing_over = 0;
  }
  chain(sig, info, uctx);
  errno = saved_errno;
}

void lrt__fatal_install(void) {
  struct sigaction ours;
  unsigned i;

  if (installed)
    return;
  memset(&ours, 0, sizeof(ours));
  ours.sa_sigaction = on_fatal;
  /* On the program's alternate stack if it has one (a stack overflow's
   * SIGSEGV can run nowhere else). */
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&ours.sa_mask);
  for (i = 0; i < NFATAL; i++)
    sigaction(fatal_signals[i], &ours, &previous[i]);
  installed = 1;
}

void lrt__fatal_uninstall(void) {
  unsigned i;

  if (!installed)
    return;
  for (i = 0; i < NFATAL; i++) {
    struct sigaction now;
    /* A handler the program installed since is left alone. */
    if (sigaction(fatal_signals[i], NULL, &now) == 0 &&
        (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_fatal)
      sigaction(fatal_signals[i], &previous[i], NULL);
  }
  installed = 0;
}
