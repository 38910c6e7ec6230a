/* keeper.h — a child that holds the tracer's probes while it exits.
 *
 * Removing a uprobe or a perf-event tracepoint waits for the kernel's RCU
 * grace periods: 80-90 ms per link on this machine, 100-300 ms on a
 * loaded one (measured), more than a stop may take. The wait falls on
 * whoever drops the last reference to the link. A keeper is a forked
 * child that keeps only the probe links and perf events (no output, no
 * terminal, no pipe of ours): the tracer closes its own references at
 * once, finishes and exits; the keeper then lets go, and the kernel's
 * wait is its, not the user's.
 *
 *   keeper_start(&k, -1, first); probes stopped first (they take nothing)
 *   ... close our own references to `first` ...
 *   keeper_release_first(&k);  the keeper lets `first` go now
 *   ... close everything, finish ...
 *   keeper_release(&k);        the keeper exits and the probes go
 *
 * A probe's semaphore falls as its removal begins (the grace period comes
 * after), so a probe let go of first is out of the count at once.
 */
#ifndef LOOPTRACE_KEEPER_H
#define LOOPTRACE_KEEPER_H

#include <sys/types.h>

/* The most descriptors of one link keeper_probe_fds() notes. */
#define KEEPER_FDS_MAX 16

/* Some probe descriptors (libbpf does not say which it opened for a link:
 * they are found by what appeared while attaching it). */
struct keeper_fds {
  int count;
  int fd[KEEPER_FDS_MAX];
};

/* A started keeper; {-1, -1}: none. */
struct keeper {
  int pipe; /* ours: a byte lets `first` go, closing it ends the keeper */
  pid_t pid;
};

/* Notes in `set` the probe descriptors (bpf links, perf events) open now,
 * but those in `except` (NULL: none); at most KEEPER_FDS_MAX. */
void keeper_probe_fds(struct keeper_fds* set, const struct keeper_fds* except);

/* Forks the keeper; it holds `keep` too (a file whose last close takes
 * long, or -1). `first` (or NULL) are probes to let go of before the
 * others, at keeper_release_first(). Sets *k, to {-1, -1} when it could
 * not (closing the probes then waits as before). */
void keeper_start(struct keeper* k, int keep, const struct keeper_fds* first);

/* Lets the keeper go of `first`. Call once the tracer's own references
 * to them are closed (else the last reference, and its wait, is ours). */
void keeper_release_first(const struct keeper* k);

/* Lets the keeper go: it exits, and the kernel removes the probes it
 * held; it is reaped when it has (no zombie while the tracer waits on).
 * Call once the tracer's own references are closed; none is fine. */
void keeper_release(struct keeper* k);

#endif /* LOOPTRACE_KEEPER_H */
