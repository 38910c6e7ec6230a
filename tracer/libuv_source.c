/* libuv_source.c — the libuv source: find libuv in a program, attach
 * uprobes to its functions (entries and returns only, through the
 * running inode), and hand the records libuv_derive.c makes of them to
 * the exporter.
 */
#include "libuv_source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elf_symbols.h"
#include "libuv.h"
#include "libuv.skel.h"
#include "libuv_derive.h"
#include "probes.h"

#define MAX_LINKS 64
#define MAX_FALLBACKS 8
#define RING_SIZE (16u << 20)

/* What a probe hit costs the traced thread, from `make bench`'s node
 * figures on this project's machine (kernel 6.18): a setImmediate loop
 * (5 entries and 3 returns a tick) pays about 4 us a tick more. */
#define COST_ENTRY_US 0.45
#define COST_RETURN_US 0.25

/* The functions the source probes, by the role each plays. */
enum sym_id {
  S_RUN,
  S_TIMERS,
  S_IDLE,
  S_PREPARE,
  S_POLL,
  S_CHECK,
  /* the threadpool */
  S_SUBMIT,
  S_QUEUE_WORK,
  S_WORKER,
  S_FS_WORK,
  S_FS_DONE,
  S_QUEUE_WORK_FN,
  S_QUEUE_DONE,
  S_GAI_WORK,
  S_GAI_DONE,
  S_GNI_WORK,
  S_GNI_DONE,
  S_RANDOM_WORK,
  S_RANDOM_DONE,
  /* facts */
  S_VERSION,
  S_METRICS_INFO,
  S_TPW_LAMBDA,
  S_COUNT
};

static const char* const sym_names[S_COUNT] = {
    [S_RUN] = "uv_run",
    [S_TIMERS] = "uv__run_timers",
    [S_IDLE] = "uv__run_idle",
    [S_PREPARE] = "uv__run_prepare",
    [S_POLL] = "uv__io_poll",
    [S_CHECK] = "uv__run_check",
    [S_SUBMIT] = "uv__work_submit",
    [S_QUEUE_WORK] = "uv_queue_work",
    [S_WORKER] = "worker",
    [S_FS_WORK] = "uv__fs_work",
    [S_FS_DONE] = "uv__fs_done",
    [S_QUEUE_WORK_FN] = "uv__queue_work",
    [S_QUEUE_DONE] = "uv__queue_done",
    [S_GAI_WORK] = "uv__getaddrinfo_work",
    [S_GAI_DONE] = "uv__getaddrinfo_done",
    [S_GNI_WORK] = "uv__getnameinfo_work",
    [S_GNI_DONE] = "uv__getnameinfo_done",
    [S_RANDOM_WORK] = "uv__random_work",
    [S_RANDOM_DONE] = "uv__random_done",
    [S_VERSION] = "uv_version",
    [S_METRICS_INFO] = "uv_metrics_info",
    [S_TPW_LAMBDA] =
        "_ZZN4node14ThreadPoolWork12ScheduleWorkEvENUlP9uv_work_sE_4_FUNES2_",
};

/* Work and done functions of each enum uvs_fn. */
static const struct {
  enum sym_id work;
  enum sym_id done;
} pool_fns[UVS_FN_MAX] = {
    [UVS_FN_FS] = {S_FS_WORK, S_FS_DONE},
    [UVS_FN_QUEUE] = {S_QUEUE_WORK_FN, S_QUEUE_DONE},
    [UVS_FN_GETADDRINFO] = {S_GAI_WORK, S_GAI_DONE},
    [UVS_FN_GETNAMEINFO] = {S_GNI_WORK, S_GNI_DONE},
    [UVS_FN_RANDOM] = {S_RANDOM_WORK, S_RANDOM_DONE},
};

struct libuv_source {
  int fd;     /* the ELF file holding libuv */
  int exe_fd; /* the same, when opened for `-- CMD` */
  dev_t dev;  /* its inode, to find it in /proc/PID/maps */
  ino_t ino;
  pid_t pid;
  char attach_path[PATH_MAX]; /* /proc/PID/exe, map_files or /proc/self/fd */
  char shown[PATH_MAX];
  struct elf_file* elf;
  struct elf_sym syms[S_COUNT];
  uint32_t uv_version;
  char version[32];
  const char* fallbacks[MAX_FALLBACKS + 1];
  int nfallbacks;
  int pool; /* the threadpool's functions are all there */
  struct libuv_bpf* skel;
  struct bpf_link* links[MAX_LINKS]; /* NULL for a uprobe_multi link */
  int link_fds[MAX_LINKS];           /* its fd */
  int nlinks;
  int multi; /* programs loaded for uprobe_multi links */
  int nprobes;
  struct uvd* derive;
  libuv_sink_cb sink;
  void* sink_ctx;
  int bias_known;
  uint64_t received; /* raw records read from the ring buffer */
  uint64_t began_ns; /* when finding libuv began */
  uint64_t ready_ns; /* when the probes were in */
};

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void add_fallback(struct libuv_source* src, const char* text) {
  if (src->nfallbacks < MAX_FALLBACKS)
    src->fallbacks[src->nfallbacks++] = text;
  src->fallbacks[src->nfallbacks] = NULL;
}

/* ------------------------------------------------------------------------
 * Finding libuv
 */

struct lookup {
  struct libuv_source* src;
  int workers; /* `worker` symbols seen */
};

static int take_sym(const struct elf_sym* sym, void* ctx) {
  struct lookup* lk = ctx;
  struct libuv_source* src = lk->src;
  int i;
  for (i = 0; i < S_COUNT; i++) {
    if (strcmp(sym->name, sym_names[i]) != 0)
      continue;
    if (i == S_WORKER)
      lk->workers++;
    if (src->syms[i].addr == 0)
      src->syms[i] = *sym;
  }
  return 0;
}

/* `worker` is a common name for a static function: of several, keep the
 * one nearest to libuv's threadpool (the same object file). */
static int nearest_worker(const struct elf_sym* sym, void* ctx) {
  struct libuv_source* src = ctx;
  uint64_t anchor = src->syms[S_QUEUE_WORK_FN].addr;
  uint64_t best = src->syms[S_WORKER].addr;
  if (strcmp(sym->name, "worker") != 0 || anchor == 0)
    return 0;
  if (best == 0 ||
      (sym->addr > anchor ? sym->addr - anchor : anchor - sym->addr) <
          (best > anchor ? best - anchor : anchor - best))
    src->syms[S_WORKER] = *sym;
  return 0;
}

/* The version from uv_version(): `mov $imm32, %eax; ret`. */
static void read_version(struct libuv_source* src) {
  unsigned char code[6];
  uint32_t v = 0;
  if (src->syms[S_VERSION].addr != 0 &&
      elf_file_read(src->elf, src->syms[S_VERSION].addr, code, 6) == 0 &&
      code[0] == 0xb8 && code[5] == 0xc3)
    memcpy(&v, code + 1, 4);
  if (v >> 16 != 1 || ((v >> 8) & 0xff) > 200) {
    /* uv_metrics_info came with 1.45, with the new phase order. */
    v = src->syms[S_METRICS_INFO].addr != 0 ? LRT_UV_TIMERS_LAST
                                            : LRT_UV_VERSION(1, 44, 0);
    add_fallback(src, src->syms[S_METRICS_INFO].addr != 0
                          ? "libuv version guessed (1.45+) from its symbols"
                          : "libuv version guessed (1.44) from its symbols");
    snprintf(src->version, sizeof(src->version), "%u.%u (guessed)", v >> 16,
             (v >> 8) & 0xff);
  } else {
    lrt_uv_version_format(v, src->version);
  }
  src->uv_version = v;
}

/* Reads the symbols of the file on src->fd and checks that they are
 * libuv's. Returns 0, -ENOENT (no libuv) or -ENOEXEC (`why` says). */
static int check_file(struct libuv_source* src, char* why, size_t size) {
  struct lookup lk = {src, 0};
  struct stat st;
  int i;
  int err = elf_file_open(&src->elf, src->fd);
  if (err != 0)
    return -ENOENT;
  if (fstat(src->fd, &st) == 0) {
    src->dev = st.st_dev;
    src->ino = st.st_ino;
  }
  if (!elf_file_has_symtab(src->elf)) {
    snprintf(why, size,
             "libuv in %s is stripped (no .symtab): install its debug "
             "symbols or a build with symbols",
             src->shown);
    /* Stripped: libuv's exports remain, its internal functions (the
     * phases, the pool) are gone. */
    return elf_file_exports(src->elf, "uv_run") ? -ENOEXEC : -ENOENT;
  }
  elf_file_foreach_func(src->elf, take_sym, &lk);
  if (lk.workers > 1) {
    src->syms[S_WORKER].addr = 0;
    elf_file_foreach_func(src->elf, nearest_worker, src);
  }
  if (src->syms[S_RUN].addr == 0 && src->syms[S_POLL].addr == 0)
    return -ENOENT;
  for (i = S_RUN; i <= S_CHECK; i++) {
    if (src->syms[i].addr == 0) {
      snprintf(why, size,
               "%s has libuv symbols but no %s (inlined or renamed?): its "
               "phases cannot be told apart",
               src->shown, sym_names[i]);
      return -ENOEXEC;
    }
  }
  /* The threadpool: libuv's worker() to tell pool threads apart, a way
   * in, and the work/done pairs the program links (a static link has only
   * those it uses). */
  src->pool =
      src->syms[S_WORKER].addr != 0 &&
      (src->syms[S_SUBMIT].addr != 0 || src->syms[S_QUEUE_WORK].addr != 0);
  if (!src->pool)
    add_fallback(src, "libuv's threadpool functions missing: no tasks");
  read_version(src);
  return 0;
}

static struct libuv_source* source_new(void) {
  struct libuv_source* src = calloc(1, sizeof(*src));
  if (src != NULL) {
    src->fd = -1;
    src->exe_fd = -1;
    src->began_ns = mono_ns();
  }
  return src;
}

/* Tries the file at `path` (how to open it) named `shown`. */
static int try_file(struct libuv_source* src, const char* path,
                    const char* shown, char* why, size_t size) {
  int err;
  src->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (src->fd < 0)
    return -errno;
  snprintf(src->attach_path, sizeof(src->attach_path), "%s", path);
  snprintf(src->shown, sizeof(src->shown), "%s", shown);
  err = check_file(src, why, size);
  if (err != 0) {
    elf_file_close(src->elf);
    src->elf = NULL;
    close(src->fd);
    src->fd = -1;
    memset(src->syms, 0, sizeof(src->syms));
    src->nfallbacks = 0;
  }
  return err;
}

/* Whether a mapped file's name suggests libuv or node. */
static int worth_trying(const char* file) {
  const char* base = strrchr(file, '/');
  base = base != NULL ? base + 1 : file;
  return strstr(base, "libuv") != NULL || strstr(base, "libnode") != NULL;
}

/* Looks through the libraries process `pid` maps. */
static int try_maps(struct libuv_source* src, pid_t pid, char* why,
                    size_t size) {
  char path[64];
  char line[PATH_MAX + 128];
  char tried[PATH_MAX] = "";
  int result = -ENOENT;
  FILE* f;
  snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
  f = fopen(path, "re");
  if (f == NULL)
    return errno == ENOENT ? -ESRCH : -errno;
  while (result != 0 && fgets(line, sizeof(line), f) != NULL) {
    char range[64];
    char file[PATH_MAX];
    char map[128];
    int err;
    if (sscanf(line, "%63s %*s %*s %*s %*s %4095[^\n]", range, file) != 2 ||
        file[0] != '/' || !worth_trying(file) || strcmp(file, tried) == 0)
      continue;
    snprintf(tried, sizeof(tried), "%s", file);
    snprintf(map, sizeof(map), "/proc/%d/map_files/%s", (int) pid, range);
    err = try_file(src, map, file, why, size);
    if (err == 0 || err == -ENOEXEC)
      result = err;
  }
  fclose(f);
  return result;
}

int libuv_source_find(pid_t pid, struct libuv_source** out, char* why,
                      size_t size) {
  struct libuv_source* src = source_new();
  char exe[64];
  char shown[PATH_MAX];
  ssize_t n;
  int err;
  if (src == NULL)
    return -ENOMEM;
  why[0] = '\0';
  src->pid = pid;
  snprintf(exe, sizeof(exe), "/proc/%d/exe", (int) pid);
  n = readlink(exe, shown, sizeof(shown) - 1);
  if (n < 0) {
    err = errno == ENOENT ? -ESRCH : -errno;
    free(src);
    return err;
  }
  shown[n] = '\0';
  err = try_file(src, exe, shown, why, size);
  if (err == -ENOENT)
    err = try_maps(src, pid, why, size);
  if (err != 0) {
    libuv_source_free(src);
    return err;
  }
  *out = src;
  return 0;
}

/* `cmd` as execvp would find it. */
static int find_in_path(const char* cmd, char* buf, size_t size) {
  const char* path = getenv("PATH");
  const char* p;
  if (strchr(cmd, '/') != NULL) {
    snprintf(buf, size, "%s", cmd);
    return access(buf, X_OK) == 0 ? 0 : -errno;
  }
  if (path == NULL)
    path = "/usr/local/bin:/usr/bin:/bin";
  for (p = path; *p != '\0';) {
    const char* end = strchr(p, ':');
    size_t len = end != NULL ? (size_t) (end - p) : strlen(p);
    snprintf(buf, size, "%.*s/%s", (int) len, len > 0 ? p : ".", cmd);
    if (access(buf, X_OK) == 0)
      return 0;
    p += len;
    if (*p == ':')
      p++;
  }
  return -ENOENT;
}

int libuv_source_open_cmd(const char* cmd, struct libuv_source** out, char* why,
                          size_t size) {
  struct libuv_source* src;
  struct usdt_probe* probes = NULL;
  char file[PATH_MAX];
  char lib[PATH_MAX];
  char fd_path[64];
  int err = find_in_path(cmd, file, sizeof(file));
  why[0] = '\0';
  if (err != 0)
    return err;
  /* A looprt program is traced by its own, cheaper source. */
  if (probes_read(file, PROBES_PROVIDER, &probes) > 0 ||
      probes_needed_looprt(file, lib, sizeof(lib)) != -ENOENT) {
    free(probes);
    return -ENOENT;
  }
  src = source_new();
  if (src == NULL)
    return -ENOMEM;
  src->fd = open(file, O_RDONLY | O_CLOEXEC);
  if (src->fd < 0) {
    err = -errno;
    free(src);
    return err;
  }
  src->exe_fd = src->fd;
  snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", src->fd);
  snprintf(src->attach_path, sizeof(src->attach_path), "%s", fd_path);
  snprintf(src->shown, sizeof(src->shown), "%s", file);
  err = check_file(src, why, size);
  if (err != 0) {
    libuv_source_free(src);
    return err;
  }
  *out = src;
  return 0;
}

int libuv_source_exe_fd(const struct libuv_source* src) {
  return src->exe_fd;
}

/* ------------------------------------------------------------------------
 * Attaching
 */

/* Where the file is loaded in the target, from /proc/PID/maps. Returns 0
 * and sets *bias (0 for a fixed-address executable), or -ENOENT. */
static int find_bias(struct libuv_source* src, uint64_t* bias) {
  char path[64];
  char line[PATH_MAX + 128];
  int64_t delta;
  FILE* f;
  int err = -ENOENT;
  if (!elf_file_is_dyn(src->elf)) {
    *bias = 0;
    return 0;
  }
  if (elf_file_segment_delta(src->elf, src->syms[S_RUN].addr, &delta) != 0)
    return -ENOENT;
  snprintf(path, sizeof(path), "/proc/%d/maps", (int) src->pid);
  f = fopen(path, "re");
  if (f == NULL)
    return -errno;
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned long long start, end, off, ino;
    unsigned maj, min;
    char perms[8];
    if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &off,
               &maj, &min, &ino) != 7 ||
        perms[2] != 'x' || ino != (unsigned long long) src->ino)
      continue;
    /* address A of the file is at start - off + A + delta */
    *bias = (uint64_t) ((int64_t) (start - off) + delta);
    err = 0;
    break;
  }
  fclose(f);
  return err;
}

static void symbolize(void* ctx, uint64_t addr, char* buf, size_t size) {
  struct libuv_source* src = ctx;
  struct elf_sym sym;
  buf[0] = '\0';
  if (elf_file_func_at(src->elf, addr, &sym) == 0)
    snprintf(buf, size, "%s", sym.name);
}

static int on_record(void* ctx, void* data, size_t size) {
  struct libuv_source* src = ctx;
  const struct lrt_record* out;
  size_t n;
  int err;
  if (size < sizeof(struct lrt_record))
    return 0;
  src->received++;
  if (!src->bias_known) {
    uint64_t bias;
    if (find_bias(src, &bias) == 0) {
      uvd_set_bias(src->derive, bias);
      src->bias_known = 1;
    }
  }
  uvd_feed(src->derive, data);
  n = uvd_take(src->derive, &out);
  if (n > 0) {
    err = src->sink(src->sink_ctx, (void*) out, n * sizeof(*out));
    if (err != 0)
      return err; /* stops the recording */
  }
  return 0;
}

/* The pool size the target runs with: UV_THREADPOOL_SIZE from its
 * environment, else libuv's default of 4 (clamped as libuv does). */
static uint16_t pool_size(pid_t pid) {
  char path[64];
  char buf[65536];
  const char* key = "UV_THREADPOOL_SIZE=";
  size_t len;
  size_t i;
  long v = 4;
  int fd;
  ssize_t n;
  snprintf(path, sizeof(path), "/proc/%d/environ", (int) pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 4;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 4;
  len = (size_t) n;
  buf[len] = '\0';
  for (i = 0; i < len; i += strlen(buf + i) + 1) {
    if (strncmp(buf + i, key, strlen(key)) == 0) {
      v = strtol(buf + i + strlen(key), NULL, 10);
      break;
    }
  }
  if (v < 1)
    v = 1;
  if (v > 1024)
    v = 1024;
  return (uint16_t) v;
}

/* One probe to place. */
struct probe {
  struct bpf_program* prog;
  uint64_t offset; /* in the file */
  uint64_t cookie;
  int retprobe;
};

struct plan {
  struct probe probes[MAX_LINKS];
  int n;
  int error;
};

/* Plans `prog` at the entry (or return) of symbol `id`, if it is there. */
static void plan(struct libuv_source* src, struct plan* p,
                 struct bpf_program* prog, enum sym_id id, int retprobe,
                 uint64_t cookie) {
  uint64_t off;
  if (src->syms[id].addr == 0 || p->error != 0)
    return;
  if (p->n == MAX_LINKS) {
    p->error = -E2BIG;
    return;
  }
  /* A function's first byte, in the file: never an offset worked out
   * from anything else. */
  if (elf_file_offset(src->elf, src->syms[id].addr, &off) != 0) {
    fprintf(stderr, "looptrace: %s of %s is outside its file\n", sym_names[id],
            src->shown);
    p->error = -ERANGE;
    return;
  }
  p->probes[p->n].prog = prog;
  p->probes[p->n].offset = off;
  p->probes[p->n].cookie = cookie;
  p->probes[p->n].retprobe = retprobe;
  p->n++;
}

/* Returns first, then entries: every entry seen has its return armed. */
static void plan_all(struct libuv_source* src, struct plan* p) {
  struct libuv_bpf* sk = src->skel;
  struct bpf_program* lm = sk->progs.uvs_landmark;
  int fn;
  plan(src, p, lm, S_RUN, 1, UVS_LM_RUN_RET);
  plan(src, p, lm, S_TIMERS, 1, UVS_LM_TIMERS_RET);
  plan(src, p, lm, S_POLL, 1, UVS_LM_POLL_RET);
  plan(src, p, lm, S_CHECK, 1, UVS_LM_CHECK_RET);
  for (fn = 1; src->pool && fn < UVS_FN_MAX; fn++) {
    plan(src, p, lm, pool_fns[fn].work, 1, UVS_LM_WORK_RET);
    plan(src, p, lm, pool_fns[fn].done, 1, UVS_LM_DONE_RET);
  }
  for (fn = 1; src->pool && fn < UVS_FN_MAX; fn++) {
    plan(src, p, sk->progs.uvs_work, pool_fns[fn].work, 0, (uint64_t) fn);
    plan(src, p, sk->progs.uvs_done, pool_fns[fn].done, 0, (uint64_t) fn);
  }
  if (src->pool) {
    plan(src, p, sk->progs.uvs_submit, S_SUBMIT, 0, 0);
    plan(src, p, sk->progs.uvs_queue_work, S_QUEUE_WORK, 0, 0);
  }
  plan(src, p, lm, S_RUN, 0, UVS_LM_RUN);
  plan(src, p, lm, S_TIMERS, 0, UVS_LM_TIMERS);
  plan(src, p, lm, S_IDLE, 0, UVS_LM_IDLE);
  plan(src, p, lm, S_PREPARE, 0, UVS_LM_PREPARE);
  plan(src, p, lm, S_POLL, 0, UVS_LM_POLL);
  plan(src, p, lm, S_CHECK, 0, UVS_LM_CHECK);
}

/* BPF_LINK_CREATE for BPF_TRACE_UPROBE_MULTI (Linux 6.6), laid out by
 * hand: the system's <linux/bpf.h> and libbpf 1.1 predate it. */
struct uprobe_multi_attr {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  uint64_t path;
  uint64_t offsets;
  uint64_t ref_ctr_offsets;
  uint64_t cookies;
  uint32_t cnt;
  uint32_t multi_flags;
  uint32_t pid;
  uint32_t pad;
};

#define ATTACH_UPROBE_MULTI 48 /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_RETURN 1  /* BPF_F_UPROBE_MULTI_RETURN */

/* Attaches the probes of `p` from `first` that share its program and
 * kind as one uprobe_multi link; returns how many or a negative errno. */
static int attach_multi(struct libuv_source* src, const struct plan* p,
                        int first) {
  uint64_t offsets[MAX_LINKS];
  uint64_t cookies[MAX_LINKS];
  struct uprobe_multi_attr attr;
  int n = 0;
  int i;
  int fd;
  for (i = first; i < p->n; i++) {
    if (p->probes[i].prog != p->probes[first].prog ||
        p->probes[i].retprobe != p->probes[first].retprobe)
      continue;
    offsets[n] = p->probes[i].offset;
    cookies[n++] = p->probes[i].cookie;
  }
  memset(&attr, 0, sizeof(attr));
  attr.prog_fd = (uint32_t) bpf_program__fd(p->probes[first].prog);
  attr.attach_type = ATTACH_UPROBE_MULTI;
  attr.path = (uint64_t) (uintptr_t) src->attach_path;
  attr.offsets = (uint64_t) (uintptr_t) offsets;
  attr.cookies = (uint64_t) (uintptr_t) cookies;
  attr.cnt = (uint32_t) n;
  attr.multi_flags = p->probes[first].retprobe ? UPROBE_MULTI_RETURN : 0;
  attr.pid = (uint32_t) src->pid;
  fd = (int) syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
  if (fd < 0)
    return -errno;
  if (src->nlinks == MAX_LINKS) {
    close(fd);
    return -E2BIG;
  }
  src->links[src->nlinks] = NULL;
  src->link_fds[src->nlinks++] = fd;
  src->nprobes += n;
  return n;
}

/* One perf-event uprobe per probe: slower to attach and to detach (the
 * kernel waits for a grace period for each), for kernels before 6.6. */
static int attach_single(struct libuv_source* src, const struct probe* pr) {
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = pr->retprobe,
              .bpf_cookie = pr->cookie);
  struct bpf_link* link;
  if (src->nlinks == MAX_LINKS)
    return -E2BIG;
  link = bpf_program__attach_uprobe_opts(pr->prog, src->pid, src->attach_path,
                                         (size_t) pr->offset, &opts);
  if (link == NULL)
    return -errno;
  src->link_fds[src->nlinks] = -1;
  src->links[src->nlinks++] = link;
  src->nprobes++;
  return 0;
}

static int attach_tracepoints(struct libuv_source* src) {
  struct bpf_program* progs[] = {
      src->skel->progs.uvs_epoll_wait_exit,
      src->skel->progs.uvs_epoll_pwait_exit,
      src->skel->progs.uvs_epoll_pwait2_exit,
      src->skel->progs.uvs_epoll_wait,
      src->skel->progs.uvs_epoll_pwait,
      src->skel->progs.uvs_epoll_pwait2,
  };
  size_t i;
  for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
    struct bpf_link* link = bpf_program__attach(progs[i]);
    if (link == NULL || src->nlinks == MAX_LINKS) {
      int err = link == NULL ? -errno : -E2BIG;
      bpf_link__destroy(link);
      fprintf(stderr, "looptrace: cannot attach to the epoll tracepoints: %s\n",
              strerror(-err));
      return err;
    }
    src->link_fds[src->nlinks] = -1;
    src->links[src->nlinks++] = link;
  }
  return 0;
}

/* Whether probe `i` of `p` starts a group (the first of its program and
 * kind). */
static int group_start(const struct plan* p, int i) {
  int j;
  for (j = 0; j < i; j++) {
    if (p->probes[j].prog == p->probes[i].prog &&
        p->probes[j].retprobe == p->probes[i].retprobe)
      return 0;
  }
  return 1;
}

static int attach_probes(struct libuv_source* src, const struct plan* p) {
  int i;
  int err = 0;
  for (i = 0; i < p->n && err >= 0; i++) {
    if (src->multi)
      err = group_start(p, i) ? attach_multi(src, p, i) : 0;
    else
      err = attach_single(src, &p->probes[i]);
  }
  if (err < 0)
    fprintf(stderr, "looptrace: cannot attach uprobes to %s: %s\n", src->shown,
            strerror(-err));
  return err < 0 ? err : 0;
}

/* Opens and loads the BPF programs, for uprobe_multi links if `multi`. */
static int load(struct libuv_source* src, int multi) {
  struct libuv_bpf* sk = libuv_bpf__open();
  int err;
  if (sk == NULL)
    return -errno;
  sk->rodata->wakeup_bytes = RING_SIZE / 4;
  sk->rodata->read_job_class = src->syms[S_TPW_LAMBDA].addr != 0;
  if (multi) {
    bpf_program__set_expected_attach_type(sk->progs.uvs_landmark,
                                          ATTACH_UPROBE_MULTI);
    bpf_program__set_expected_attach_type(sk->progs.uvs_submit,
                                          ATTACH_UPROBE_MULTI);
    bpf_program__set_expected_attach_type(sk->progs.uvs_queue_work,
                                          ATTACH_UPROBE_MULTI);
    bpf_program__set_expected_attach_type(sk->progs.uvs_work,
                                          ATTACH_UPROBE_MULTI);
    bpf_program__set_expected_attach_type(sk->progs.uvs_done,
                                          ATTACH_UPROBE_MULTI);
  }
  err = libuv_bpf__load(sk);
  if (err != 0) {
    libuv_bpf__destroy(sk);
    return err;
  }
  src->skel = sk;
  src->multi = multi;
  return 0;
}

static int make_derive(struct libuv_source* src) {
  struct uvd_config cfg;
  int fn;
  memset(&cfg, 0, sizeof(cfg));
  cfg.uv_version = src->uv_version;
  cfg.pool_size = pool_size(src->exe_fd >= 0 ? getpid() : src->pid);
  cfg.from_start = src->exe_fd >= 0;
  for (fn = 1; fn < UVS_FN_MAX; fn++)
    cfg.work_fn[fn] = src->syms[pool_fns[fn].work].addr;
  cfg.worker_lo = src->syms[S_WORKER].addr;
  cfg.worker_hi = cfg.worker_lo + src->syms[S_WORKER].size;
  cfg.tpw_lambda = src->syms[S_TPW_LAMBDA].addr;
  cfg.symbolize = symbolize;
  cfg.symbolize_ctx = src;
  return uvd_new(&src->derive, &cfg);
}

/* The main thread is the first loop (see uvd_main_loop). */
static int intro_main(struct libuv_source* src) {
  const struct lrt_record* out;
  struct timespec now;
  size_t n;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uvd_main_loop(src->derive, (uint32_t) src->pid,
                (uint64_t) now.tv_sec * 1000000000ull + (uint64_t) now.tv_nsec);
  n = uvd_take(src->derive, &out);
  return n > 0 ? src->sink(src->sink_ctx, (void*) out, n * sizeof(*out)) : 0;
}

int libuv_source_attach(struct libuv_source* src, pid_t pid,
                        struct ring_buffer* rb, libuv_sink_cb sink,
                        void* sink_ctx) {
  struct plan p;
  int err;
  src->pid = pid;
  src->sink = sink;
  src->sink_ctx = sink_ctx;
  err = make_derive(src);
  if (err == 0)
    err = intro_main(src);
  if (err != 0)
    return err;
  /* uprobe_multi links attach and detach all probes at once; a kernel
   * without them gets one perf event per probe. */
  err = load(src, 1);
  if (err == 0) {
    memset(&p, 0, sizeof(p));
    plan_all(src, &p);
    if (p.error == 0 && attach_multi(src, &p, 0) == -EINVAL) {
      libuv_bpf__destroy(src->skel);
      src->skel = NULL;
      err = load(src, 0);
    } else {
      libuv_source_detach(src);
    }
  }
  if (err != 0) {
    fprintf(stderr,
            "looptrace: cannot load the libuv BPF programs: %s (-v shows "
            "libbpf's messages)\n",
            strerror(-err));
    return err;
  }
  src->skel->bss->target_tgid = (uint32_t) pid;
  err = ring_buffer__add(rb, bpf_map__fd(src->skel->maps.uv_records), on_record,
                         src);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot read the ring buffer: %s\n",
            strerror(-err));
    return err;
  }
  memset(&p, 0, sizeof(p));
  plan_all(src, &p);
  err = p.error;
  err = err ?: attach_tracepoints(src);
  err = err ?: attach_probes(src, &p);
  if (err != 0)
    libuv_source_detach(src);
  src->ready_ns = mono_ns();
  return err;
}

void libuv_source_describe(const struct libuv_source* src, FILE* out) {
  /* Per tick: 6 entries (timers, idle, prepare, poll, check) and 3
   * returns (timers, poll, check); per task: 3 entries and 2 returns. */
  double tick = 5 * COST_ENTRY_US + 3 * (COST_ENTRY_US + COST_RETURN_US);
  double task = 3 * COST_ENTRY_US + 2 * (COST_ENTRY_US + COST_RETURN_US);
  fprintf(out,
          "looptrace: libuv %s in %s: %d probes on its functions, in %.0f "
          "ms; expected cost ~%.1f us per loop tick",
          src->version, src->shown, src->nprobes,
          (double) (src->ready_ns - src->began_ns) / 1e6, tick);
  if (src->pool)
    fprintf(out, ", ~%.1f us per threadpool task", task);
  fputc('\n', out);
}

void libuv_source_print(const struct libuv_source* src, FILE* out) {
  int i;
  fprintf(out, "%-24s %-10s %s\n", "FUNCTION", "ADDRESS", "USE");
  for (i = 0; i < S_COUNT; i++) {
    const char* use = i <= S_CHECK         ? "loop phases"
                      : i <= S_RANDOM_DONE ? "threadpool tasks"
                      : i == S_TPW_LAMBDA  ? "node job classes"
                                           : "facts";
    if (src->syms[i].addr == 0)
      continue;
    fprintf(out, "%-24.24s 0x%-8" PRIx64 " %s\n", sym_names[i],
            src->syms[i].addr, use);
  }
  for (i = 0; i < src->nfallbacks; i++)
    fprintf(out, "fallback: %s\n", src->fallbacks[i]);
}

const char* libuv_source_version(const struct libuv_source* src) {
  return src->version;
}

const char* const* libuv_source_fallbacks(const struct libuv_source* src) {
  return src->fallbacks;
}

const char* libuv_source_shown(const struct libuv_source* src) {
  return src->shown;
}

/* The sum of a one-entry per-CPU counter of the source's. */
static uint64_t percpu_total(const struct libuv_source* src,
                             const struct bpf_map* map) {
  uint32_t key = 0;
  uint64_t total = 0;
  uint64_t* values;
  int ncpus = libbpf_num_possible_cpus();
  int i;
  if (src->skel == NULL || ncpus <= 0)
    return 0;
  values = calloc((size_t) ncpus, sizeof(*values));
  if (values == NULL)
    return 0;
  if (bpf_map__lookup_elem(map, &key, sizeof(key), values,
                           sizeof(*values) * (size_t) ncpus, 0) == 0) {
    for (i = 0; i < ncpus; i++)
      total += values[i];
  }
  free(values);
  return total;
}

uint64_t libuv_source_drops(const struct libuv_source* src) {
  return src->skel == NULL ? 0 : percpu_total(src, src->skel->maps.uv_drops);
}

uint64_t libuv_source_unread(const struct libuv_source* src) {
  uint64_t drops, submitted;
  if (src->skel == NULL)
    return 0;
  /* Drops first: a record counted in neither is not missed. */
  drops = percpu_total(src, src->skel->maps.uv_drops);
  submitted = percpu_total(src, src->skel->maps.uv_submitted);
  return submitted > drops + src->received ? submitted - drops - src->received
                                           : 0;
}

void libuv_source_stop(struct libuv_source* src) {
  if (src->skel != NULL && src->skel->bss != NULL)
    src->skel->bss->stopped = 1;
}

int libuv_source_attached(const struct libuv_source* src) {
  return src->nlinks > 0;
}

void libuv_source_detach(struct libuv_source* src) {
  while (src->nlinks > 0) {
    src->nlinks--;
    if (src->links[src->nlinks] != NULL)
      bpf_link__destroy(src->links[src->nlinks]);
    else
      close(src->link_fds[src->nlinks]);
  }
  src->nprobes = 0;
}

void libuv_source_free(struct libuv_source* src) {
  if (src == NULL)
    return;
  libuv_source_detach(src);
  libuv_bpf__destroy(src->skel);
  uvd_free(src->derive);
  elf_file_close(src->elf);
  if (src->fd >= 0)
    close(src->fd);
  free(src);
}
