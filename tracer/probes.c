/* probes.c — looprt's USDT probes in ELF files and in processes. */
#include "probes.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The note type and owner name of SystemTap SDT probes (<sys/sdt.h>). */
#define STAPSDT_NOTE_TYPE 3
#define STAPSDT_NOTE_NAME "stapsdt"

static int elf_open(const char* path, int* fd, Elf** elf) {
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return -errno;
  if (elf_version(EV_CURRENT) == EV_NONE) {
    close(*fd);
    return -EINVAL;
  }
  *elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
  if (*elf == NULL || elf_kind(*elf) != ELF_K_ELF) {
    if (*elf != NULL)
      elf_end(*elf);
    close(*fd);
    return -ENOEXEC;
  }
  return 0;
}

/* Copies the NUL-terminated string at desc[*pos..len) into `out`; returns
 * 0, or -1 when it is not terminated within the note. */
static int note_string(const char* desc, size_t len, size_t* pos, char* out,
                       size_t size) {
  const char* s = desc + *pos;
  const char* nul;
  if (*pos >= len)
    return -1;
  nul = memchr(s, '\0', len - *pos);
  if (nul == NULL)
    return -1;
  snprintf(out, size, "%.*s", (int) (nul - s), s);
  *pos += (size_t) (nul - s) + 1;
  return 0;
}

static uint64_t note_addr(const char* p, int size) {
  uint64_t v = 0;
  if (size == 4) {
    uint32_t v32;
    memcpy(&v32, p, 4);
    v = v32;
  } else {
    memcpy(&v, p, 8);
  }
  return v;
}

/* Where the notes are, and the base section's address (*has_base). */
static Elf_Scn* find_notes(Elf* elf, size_t shstrndx, uint64_t* base_addr,
                           int* has_base) {
  Elf_Scn* scn = NULL;
  Elf_Scn* notes = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr shdr;
    const char* name;
    if (gelf_getshdr(scn, &shdr) == NULL)
      continue;
    name = elf_strptr(elf, shstrndx, shdr.sh_name);
    if (name == NULL)
      continue;
    if (strcmp(name, ".stapsdt.base") == 0) {
      *base_addr = shdr.sh_addr;
      *has_base = 1;
    } else if (shdr.sh_type == SHT_NOTE && strcmp(name, ".note.stapsdt") == 0) {
      notes = scn;
    }
  }
  return notes;
}

/* Reads the probe of one stapsdt note (`desc`, `len` bytes) into *p.
 * Returns 0, or -1 when it is malformed. */
static int parse_note(const char* desc, size_t len, int addr_size,
                      struct usdt_probe* p, uint64_t* base) {
  size_t pos = 3 * (size_t) addr_size;
  if (len < pos)
    return -1;
  memset(p, 0, sizeof(*p));
  p->pc = note_addr(desc, addr_size);
  *base = note_addr(desc + addr_size, addr_size);
  p->semaphore = note_addr(desc + 2 * addr_size, addr_size);
  if (note_string(desc, len, &pos, p->provider, sizeof(p->provider)) != 0 ||
      note_string(desc, len, &pos, p->name, sizeof(p->name)) != 0)
    return -1;
  if (pos < len)
    note_string(desc, len, &pos, p->args, sizeof(p->args));
  return 0;
}

/* Appends `p` to *probes (*count of *cap). Returns 0 or -ENOMEM. */
static int append_probe(struct usdt_probe** probes, int* count, int* cap,
                        const struct usdt_probe* p) {
  if (*count == *cap) {
    int n = *cap ? *cap * 2 : 16;
    struct usdt_probe* grown = realloc(*probes, (size_t) n * sizeof(**probes));
    if (grown == NULL)
      return -ENOMEM;
    *probes = grown;
    *cap = n;
  }
  (*probes)[(*count)++] = *p;
  return 0;
}

int probes_read(const char* path, const char* provider,
                struct usdt_probe** out) {
  Elf* elf = NULL;
  Elf_Scn* notes;
  Elf_Data* data;
  size_t shstrndx;
  size_t offset = 0;
  size_t next;
  GElf_Nhdr nhdr;
  size_t name_off;
  size_t desc_off;
  uint64_t base_addr = 0;
  int has_base = 0;
  int addr_size;
  struct usdt_probe* probes = NULL;
  int count = 0;
  int cap = 0;
  int fd;
  int err = elf_open(path, &fd, &elf);
  *out = NULL;
  if (err != 0)
    return err;
  addr_size = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) {
    err = -ENOEXEC;
    goto cleanup;
  }
  notes = find_notes(elf, shstrndx, &base_addr, &has_base);
  data = notes != NULL ? elf_getdata(notes, NULL) : NULL;
  while (data != NULL &&
         (next = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
    struct usdt_probe p;
    uint64_t base;
    offset = next;
    if (nhdr.n_type != STAPSDT_NOTE_TYPE ||
        nhdr.n_namesz != sizeof(STAPSDT_NOTE_NAME) ||
        memcmp((const char*) data->d_buf + name_off, STAPSDT_NOTE_NAME,
               sizeof(STAPSDT_NOTE_NAME)) != 0 ||
        parse_note((const char*) data->d_buf + desc_off, nhdr.n_descsz,
                   addr_size, &p, &base) != 0)
      continue;
    if (provider != NULL && strcmp(p.provider, provider) != 0)
      continue;
    /* A prelinked file moved its sections; the note says where the base
     * section was (as libbpf and SystemTap adjust). */
    if (has_base && base != 0) {
      p.pc += base_addr - base;
      if (p.semaphore != 0)
        p.semaphore += base_addr - base;
    }
    err = append_probe(&probes, &count, &cap, &p);
    if (err != 0)
      goto cleanup;
  }
  *out = probes;
  probes = NULL;
  err = count;

cleanup:
  free(probes);
  elf_end(elf);
  close(fd);
  return err;
}

/* Whether `path` has looprt's flush probe. */
static int has_flush(const char* path, int* err) {
  struct usdt_probe* probes;
  int i;
  int found = 0;
  int n = probes_read(path, PROBES_PROVIDER, &probes);
  *err = n < 0 ? n : 0;
  for (i = 0; i < n; i++)
    if (strcmp(probes[i].name, PROBES_FLUSH) == 0)
      found = 1;
  free(probes);
  return found;
}

/* Reads /proc/PID/NAME into buf (at most size - 1 bytes, not
 * terminated). Returns the bytes read, -ESRCH for no such process, or
 * another negative errno. */
static ssize_t read_proc_file(pid_t pid, const char* name, char* buf,
                              size_t size) {
  char path[64];
  ssize_t n;
  int fd;
  snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, name);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  n = read(fd, buf, size - 1);
  if (n < 0)
    n = -errno;
  close(fd);
  return n;
}

int probes_comm(pid_t pid, char* buf, size_t size) {
  ssize_t n = read_proc_file(pid, "comm", buf, size);
  if (n < 0)
    return (int) n;
  while (n > 0 && buf[n - 1] == '\n')
    n--;
  buf[n] = '\0';
  return 0;
}

int probes_cmdline(pid_t pid, char* buf, size_t size) {
  ssize_t n = read_proc_file(pid, "cmdline", buf, size);
  ssize_t i;
  if (n < 0)
    return (int) n;
  while (n > 0 && buf[n - 1] == '\0')
    n--;
  for (i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
  return 0;
}

/* Whether process `pid` has exited and waits to be reaped: the state
 * after the last ')' of /proc/PID/stat (comm may hold any byte) is 'Z'
 * or 'X'. */
static int is_zombie(pid_t pid) {
  char buf[512];
  const char* paren;
  ssize_t n = read_proc_file(pid, "stat", buf, sizeof(buf));
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  paren = strrchr(buf, ')');
  return paren != NULL && paren[1] == ' ' &&
         (paren[2] == 'Z' || paren[2] == 'X');
}

int probes_find(pid_t pid, struct probes_target* target) {
  char maps[64];
  char exe[64];
  char* line = NULL;
  size_t line_cap = 0;
  char last[PATH_MAX] = "";
  struct stat exe_st;
  int have_exe;
  int err = -ENOENT;
  int e;
  FILE* f;

  memset(target, 0, sizeof(*target));
  target->pid = pid;
  if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
    return -ESRCH;
  if ((e = probes_comm(pid, target->comm, sizeof(target->comm))) != 0)
    return e;
  if (is_zombie(pid))
    return -ECHILD;
  snprintf(exe, sizeof(exe), "/proc/%d/exe", (int) pid);
  have_exe = stat(exe, &exe_st) == 0;

  snprintf(maps, sizeof(maps), "/proc/%d/maps", (int) pid);
  f = fopen(maps, "re");
  if (f == NULL)
    return errno == ENOENT ? -ESRCH : -errno;
  while (getline(&line, &line_cap, f) > 0) {
    unsigned long start;
    unsigned long end;
    unsigned long inode;
    char perms[8];
    char candidate[PATH_MAX];
    int path_at = 0;
    const char* path;
    struct stat st;
    line[strcspn(line, "\n")] = '\0';
    if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %lu %n", &start, &end, perms,
               &inode, &path_at) < 4 ||
        path_at == 0)
      continue;
    path = line + path_at;
    /* File-backed executable mappings, each file once. */
    if (path[0] != '/' || perms[2] != 'x' || strcmp(path, last) == 0)
      continue;
    snprintf(last, sizeof(last), "%s", path);
    /* The file as named, if it is still the one mapped; else the
     * mapping itself. */
    if (stat(path, &st) == 0 && st.st_ino == inode)
      snprintf(candidate, sizeof(candidate), "%s", path);
    else
      snprintf(candidate, sizeof(candidate), "/proc/%d/map_files/%lx-%lx",
               (int) pid, start, end);
    if (!has_flush(candidate, &e)) {
      if (e == -EACCES || e == -EPERM)
        err = e;
      continue;
    }
    snprintf(target->path, sizeof(target->path), "%s", candidate);
    snprintf(target->shown, sizeof(target->shown), "%s", path);
    target->is_static = have_exe && stat(candidate, &st) == 0 &&
                        st.st_ino == exe_st.st_ino &&
                        st.st_dev == exe_st.st_dev;
    err = 0;
    break;
  }
  free(line);
  fclose(f);
  return err;
}

/* Searches the ':'-separated `dirs` for `name`; $ORIGIN is `origin`. */
static int search_dirs(const char* dirs, const char* origin, const char* name,
                       char* out, size_t size) {
  const char* p = dirs;
  while (p != NULL && *p != '\0') {
    const char* colon = strchr(p, ':');
    size_t n = colon ? (size_t) (colon - p) : strlen(p);
    char dir[PATH_MAX];
    char path[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", (int) n, p);
    if (strncmp(dir, "$ORIGIN", 7) == 0)
      snprintf(path, sizeof(path), "%s%s/%s", origin, dir + 7, name);
    else if (strncmp(dir, "${ORIGIN}", 9) == 0)
      snprintf(path, sizeof(path), "%s%s/%s", origin, dir + 9, name);
    else
      snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n > 0 && access(path, R_OK) == 0) {
      if (realpath(path, dir) == NULL)
        snprintf(dir, sizeof(dir), "%s", path);
      snprintf(out, size, "%s", dir);
      return 0;
    }
    p = colon ? colon + 1 : NULL;
  }
  return -ENOENT;
}

int probes_needed_looprt(const char* exe, char* lib, size_t size) {
  static const char system_dirs[] =
      "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:"
      "/lib:/usr/lib:/usr/local/lib";
  char needed[256] = "";
  char runpath[PATH_MAX] = "";
  char origin[PATH_MAX];
  Elf* elf = NULL;
  Elf_Scn* scn = NULL;
  char* slash;
  int fd;
  int err = elf_open(exe, &fd, &elf);
  if (err != 0)
    return err;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr shdr;
    Elf_Data* data;
    size_t i;
    if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type != SHT_DYNAMIC ||
        shdr.sh_entsize == 0)
      continue;
    data = elf_getdata(scn, NULL);
    for (i = 0; data != NULL && i < shdr.sh_size / shdr.sh_entsize; i++) {
      GElf_Dyn dyn;
      const char* s;
      if (gelf_getdyn(data, (int) i, &dyn) == NULL)
        break;
      if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH &&
          dyn.d_tag != DT_RPATH)
        continue;
      s = elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val);
      if (s == NULL)
        continue;
      if (dyn.d_tag == DT_NEEDED && strncmp(s, "liblooprt", 9) == 0)
        snprintf(needed, sizeof(needed), "%s", s);
      else if (dyn.d_tag != DT_NEEDED && runpath[0] == '\0')
        snprintf(runpath, sizeof(runpath), "%s", s);
    }
  }
  elf_end(elf);
  close(fd);
  if (needed[0] == '\0')
    return -ENOENT;
  if (realpath(exe, origin) == NULL)
    snprintf(origin, sizeof(origin), "%s", exe);
  slash = strrchr(origin, '/');
  if (slash != NULL)
    *slash = '\0';
  if (search_dirs(runpath, origin, needed, lib, size) == 0 ||
      search_dirs(getenv("LD_LIBRARY_PATH"), origin, needed, lib, size) == 0 ||
      search_dirs(system_dirs, origin, needed, lib, size) == 0)
    return 0;
  snprintf(lib, size, "%s", needed);
  return -ELIBACC;
}
