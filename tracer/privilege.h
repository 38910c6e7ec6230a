/* privilege.h — whether this process may record, and what it lacks.
 *
 * Recording loads BPF (CAP_BPF) and attaches it to a USDT probe through a
 * uprobe perf event, which took CAP_PERFMON until Linux 6.16 and takes
 * CAP_SYS_ADMIN since (and on the stable kernels that took the change).
 * A kernel's version does not say which rule it follows, so when the
 * process holds CAP_BPF and CAP_PERFMON but not CAP_SYS_ADMIN, the check
 * asks the kernel: it opens a uprobe perf event on a function of its own
 * that never runs, in its own process only, and closes it at once.
 */
#ifndef LOOPTRACE_PRIVILEGE_H
#define LOOPTRACE_PRIVILEGE_H

/* Returns 0 if this process holds what recording needs on the running
 * kernel, or -EPERM if it does not; privilege_needed() then says what is
 * missing. */
int privilege_check(void);

/* What recording needs on the running kernel, as one line without the
 * "looptrace: " prefix or a newline ("recording needs CAP_SYS_ADMIN ...").
 * Best after privilege_check(): it then states what the kernel answered;
 * before, or when the answer could not be had (the process lacks
 * CAP_PERFMON), it goes by the kernel's version and says so. The string
 * is static. */
const char* privilege_needed(void);

#endif /* LOOPTRACE_PRIVILEGE_H */
