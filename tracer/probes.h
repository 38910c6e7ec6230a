/* probes.h — where looprt's USDT probes are: in an ELF file (its
 * .note.stapsdt notes, read with libelf) and in a running process (the
 * executable itself when looprt is linked statically, or liblooprt
 * mapped from /proc/PID/maps).
 */
#ifndef LOOPTRACE_PROBES_H
#define LOOPTRACE_PROBES_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* The provider of the runtime's probes and the one looptrace uses. */
#define PROBES_PROVIDER "looprt"
#define PROBES_FLUSH "flush"

/* One probe site, as the stapsdt note describes it. */
struct usdt_probe {
  char provider[64];
  char name[64];
  char args[256];     /* e.g. "8@%rdi -8@%rsi" */
  uint64_t pc;        /* the site's address in the file's address space */
  uint64_t semaphore; /* the semaphore's address, 0 when there is none */
};

/* Reads the stapsdt probes of the ELF file `path` whose provider is
 * `provider` (NULL: all). Returns how many and sets *out (free() it; NULL
 * when none), or a negative errno: -ENOENT/-EACCES/... from open(),
 * -ENOEXEC when the file is not ELF. */
int probes_read(const char* path, const char* provider,
                struct usdt_probe** out);

/* Where a process has looprt. */
struct probes_target {
  pid_t pid;
  char comm[32];
  int is_static;        /* probes in the executable, else in a library */
  char path[PATH_MAX];  /* the file holding the probes, for libbpf */
  char shown[PATH_MAX]; /* the same as the process names it */
};

/* Finds the file of process `pid` that holds looprt's flush probe.
 * Returns 0, or -ESRCH (no such process), -ECHILD (it has exited and
 * was not reaped yet: a zombie; comm is filled), -ENOENT (it has no looprt
 * probes), -EACCES/-EPERM (its memory map cannot be read), or another
 * negative errno. */
int probes_find(pid_t pid, struct probes_target* target);

/* Reads /proc/PID/comm into `buf`. Returns 0 or a negative errno. */
int probes_comm(pid_t pid, char* buf, size_t size);

/* Reads /proc/PID/cmdline into `buf`, arguments joined by spaces.
 * Returns 0 or a negative errno. */
int probes_cmdline(pid_t pid, char* buf, size_t size);

/* Finds the liblooprt a (dynamically linked) executable needs, the way
 * the dynamic linker would for the common cases: DT_RUNPATH/DT_RPATH
 * (with $ORIGIN), LD_LIBRARY_PATH, then the system directories. Returns
 * 0 and fills `lib`; -ENOENT when it needs none; -ELIBACC when it needs
 * one that is not found (`lib` then holds its name); or a negative errno
 * from reading `exe`. */
int probes_needed_looprt(const char* exe, char* lib, size_t size);

#endif /* LOOPTRACE_PROBES_H */
