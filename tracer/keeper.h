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
 *   keeper = keeper_start(-1); probes stopped first (they take nothing)
 *   ... close everything, finish ...
 *   keeper_release(keeper);    the keeper exits and the probes go
 */
#ifndef LOOPTRACE_KEEPER_H
#define LOOPTRACE_KEEPER_H

/* Forks the keeper; it holds `keep` too (a file whose last close takes
 * long, or -1). Returns the handle for keeper_release(), or -1 when it
 * could not (closing the probes then waits as before). */
int keeper_start(int keep);

/* Lets the keeper go: it exits, and the kernel removes the probes it
 * held. Call once the tracer's own references are closed; -1 is fine. */
void keeper_release(int keeper);

#endif /* LOOPTRACE_KEEPER_H */
