/* privilege.c — see privilege.h. */
#include "privilege.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Where the uprobe rule changed. */
#define ADMIN_MAJOR 6
#define ADMIN_MINOR 16

/* What is known of the kernel's uprobe rule. */
enum uprobe_rule {
  RULE_UNKNOWN,   /* not asked: go by the version */
  RULE_PERFMON,   /* the kernel let CAP_PERFMON open a uprobe */
  RULE_SYS_ADMIN, /* it refused CAP_PERFMON */
};

static enum uprobe_rule rule = RULE_UNKNOWN;

/* The effective capability set, as a 64-bit mask; root's full set when
 * capget() fails. */
static uint64_t effective_caps(void) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  if (syscall(SYS_capget, &hdr, data) != 0)
    return geteuid() == 0 ? ~0ull : 0;
  return (uint64_t) data[0].effective | (uint64_t) data[1].effective << 32;
}

#define HAS(caps, cap) (((caps) >> (cap)) & 1)

/* Never called: the instruction the trial uprobe is set on. */
__attribute__((noinline, used)) static void probe_site(void) {
  __asm__ volatile("" ::: "memory");
}

/* Finds the file and file offset that hold `addr` in this process's
 * executable mappings. Returns 0 or -ENOENT. */
static int file_offset(const void* addr, char* path, size_t size,
                       uint64_t* offset) {
  FILE* maps = fopen("/proc/self/maps", "re");
  char line[4096 + 128];
  uintptr_t a = (uintptr_t) addr;
  int r = -ENOENT;
  if (maps == NULL)
    return -ENOENT;
  while (fgets(line, sizeof(line), maps) != NULL) {
    uintptr_t start, end;
    uint64_t pgoff;
    char perms[5];
    int name = 0;
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %" SCNx64 " %*s %*u %n",
               &start, &end, perms, &pgoff, &name) < 4 ||
        a < start || a >= end || perms[2] != 'x' || name == 0 ||
        line[name] != '/')
      continue;
    line[strcspn(line, "\n")] = '\0';
    snprintf(path, size, "%s", line + name);
    *offset = a - start + pgoff;
    r = 0;
    break;
  }
  fclose(maps);
  return r;
}

/* The uprobe PMU's type, or -ENOENT (a kernel without it; libbpf then
 * uses tracefs, and the attach itself tells). */
static int uprobe_pmu_type(void) {
  FILE* f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
  int type = -1;
  if (f == NULL)
    return -ENOENT;
  if (fscanf(f, "%d", &type) != 1)
    type = -1;
  fclose(f);
  return type >= 0 ? type : -ENOENT;
}

/* Opens and closes a disabled uprobe perf event on probe_site, in this
 * process only, as libbpf's attach does for the target. */
static enum uprobe_rule ask_kernel(void) {
  struct perf_event_attr attr;
  char path[4096];
  uint64_t offset;
  int type = uprobe_pmu_type();
  int fd;
  if (type < 0 ||
      file_offset((const void*) probe_site, path, sizeof(path), &offset) != 0)
    return RULE_UNKNOWN;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = (uint32_t) type;
  attr.config1 = (uint64_t) (uintptr_t) path; /* uprobe_path */
  attr.config2 = offset;                      /* probe_offset */
  attr.disabled = 1;
  fd = (int) syscall(SYS_perf_event_open, &attr, 0, -1, -1,
                     PERF_FLAG_FD_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return RULE_PERFMON;
  }
  if (errno == EACCES || errno == EPERM)
    return RULE_SYS_ADMIN;
  return RULE_UNKNOWN; /* some other trouble: the attach will tell */
}

int privilege_check(void) {
  uint64_t caps = effective_caps();
  if (HAS(caps, CAP_SYS_ADMIN))
    return 0; /* it stands in for CAP_BPF and CAP_PERFMON too */
  if (HAS(caps, CAP_PERFMON))
    rule = ask_kernel();
  if (!HAS(caps, CAP_BPF) || !HAS(caps, CAP_PERFMON))
    return -EPERM;
  return rule == RULE_SYS_ADMIN ? -EPERM : 0;
}

/* Whether the running kernel is 6.16 or later. */
static int kernel_has_admin_rule(void) {
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
    return 0;
  return major > ADMIN_MAJOR || (major == ADMIN_MAJOR && minor >= ADMIN_MINOR);
}

const char* privilege_needed(void) {
  if (rule == RULE_SYS_ADMIN)
    return "recording needs CAP_SYS_ADMIN (or root): this kernel attaches "
           "uprobes only with it, CAP_BPF and CAP_PERFMON are not enough; "
           "try sudo";
  if (rule == RULE_UNKNOWN && kernel_has_admin_rule())
    return "recording needs CAP_SYS_ADMIN (or root): Linux 6.16 and later "
           "attach uprobes only with it; try sudo";
  return "recording needs CAP_BPF and CAP_PERFMON (or root); try sudo";
}
