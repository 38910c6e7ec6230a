/* elf_symbols.c — the symbols of an ELF file, read with libelf. */
#include "elf_symbols.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PHDRS 64

struct elf_file {
  int fd;
  Elf* elf;
  Elf_Data* symtab; /* NULL when stripped */
  size_t strtab;    /* section index of its names */
  size_t nsyms;
  int is_dyn;
  size_t nphdrs;
  GElf_Phdr phdrs[MAX_PHDRS]; /* PT_LOAD only */
};

static void find_symtab(struct elf_file* ef) {
  Elf_Scn* scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB ||
        sh.sh_entsize == 0)
      continue;
    ef->symtab = elf_getdata(scn, NULL);
    ef->strtab = sh.sh_link;
    ef->nsyms = ef->symtab != NULL ? ef->symtab->d_size / sh.sh_entsize : 0;
    return;
  }
}

int elf_file_open(struct elf_file** out, int fd) {
  struct elf_file* ef;
  GElf_Ehdr eh;
  size_t n;
  size_t i;
  if (elf_version(EV_CURRENT) == EV_NONE)
    return -ENOEXEC;
  ef = calloc(1, sizeof(*ef));
  if (ef == NULL)
    return -ENOMEM;
  ef->fd = fd;
  ef->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (ef->elf == NULL || elf_kind(ef->elf) != ELF_K_ELF ||
      gelf_getehdr(ef->elf, &eh) == NULL || elf_getphdrnum(ef->elf, &n) != 0) {
    elf_file_close(ef);
    return -ENOEXEC;
  }
  ef->is_dyn = eh.e_type == ET_DYN;
  for (i = 0; i < n && ef->nphdrs < MAX_PHDRS; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(ef->elf, (int) i, &ph) != NULL && ph.p_type == PT_LOAD)
      ef->phdrs[ef->nphdrs++] = ph;
  }
  find_symtab(ef);
  *out = ef;
  return 0;
}

void elf_file_close(struct elf_file* ef) {
  if (ef == NULL)
    return;
  if (ef->elf != NULL)
    elf_end(ef->elf);
  free(ef);
}

int elf_file_has_symtab(const struct elf_file* ef) {
  return ef->symtab != NULL && ef->nsyms > 0;
}

int elf_file_exports(const struct elf_file* ef, const char* name) {
  Elf_Scn* scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
    Elf_Data* data;
    size_t i;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_DYNSYM ||
        sh.sh_entsize == 0)
      continue;
    data = elf_getdata(scn, NULL);
    for (i = 1; data != NULL && i < data->d_size / sh.sh_entsize; i++) {
      GElf_Sym sym;
      const char* n;
      if (gelf_getsym(data, (int) i, &sym) == NULL ||
          GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF)
        continue;
      n = elf_strptr(ef->elf, sh.sh_link, sym.st_name);
      if (n != NULL && strcmp(n, name) == 0)
        return 1;
    }
  }
  return 0;
}

int elf_file_is_dyn(const struct elf_file* ef) {
  return ef->is_dyn;
}

/* Symbol `i` if it is a defined function with a name. */
static int func_sym(struct elf_file* ef, size_t i, struct elf_sym* out) {
  GElf_Sym s;
  if (gelf_getsym(ef->symtab, (int) i, &s) == NULL ||
      GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF ||
      s.st_value == 0)
    return 0;
  out->name = elf_strptr(ef->elf, ef->strtab, s.st_name);
  if (out->name == NULL || out->name[0] == '\0')
    return 0;
  out->addr = s.st_value;
  out->size = s.st_size;
  out->local = GELF_ST_BIND(s.st_info) == STB_LOCAL;
  return 1;
}

int elf_file_foreach_func(struct elf_file* ef,
                          int (*cb)(const struct elf_sym* sym, void* ctx),
                          void* ctx) {
  struct elf_sym sym;
  size_t i;
  int r;
  if (!elf_file_has_symtab(ef))
    return -ENOENT;
  for (i = 1; i < ef->nsyms; i++) {
    if (func_sym(ef, i, &sym) && (r = cb(&sym, ctx)) != 0)
      return r;
  }
  return 0;
}

int elf_file_func_at(struct elf_file* ef, uint64_t addr, struct elf_sym* sym) {
  struct elf_sym s;
  size_t i;
  if (!elf_file_has_symtab(ef))
    return -ENOENT;
  for (i = 1; i < ef->nsyms; i++) {
    if (func_sym(ef, i, &s) && addr >= s.addr &&
        (addr < s.addr + s.size || (s.size == 0 && addr == s.addr))) {
      *sym = s;
      return 0;
    }
  }
  return -ENOENT;
}

static const GElf_Phdr* segment_of(const struct elf_file* ef, uint64_t addr,
                                   size_t len) {
  size_t i;
  for (i = 0; i < ef->nphdrs; i++) {
    const GElf_Phdr* ph = &ef->phdrs[i];
    if (addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz &&
        len <= ph->p_filesz - (addr - ph->p_vaddr))
      return ph;
  }
  return NULL;
}

int elf_file_offset(const struct elf_file* ef, uint64_t addr, uint64_t* off) {
  const GElf_Phdr* ph = segment_of(ef, addr, 1);
  if (ph == NULL)
    return -ERANGE;
  *off = addr - ph->p_vaddr + ph->p_offset;
  return 0;
}

int elf_file_segment_delta(const struct elf_file* ef, uint64_t addr,
                           int64_t* delta) {
  const GElf_Phdr* ph = segment_of(ef, addr, 1);
  if (ph == NULL || !(ph->p_flags & PF_X))
    return -ERANGE;
  *delta = (int64_t) ph->p_offset - (int64_t) ph->p_vaddr;
  return 0;
}

int elf_file_read(const struct elf_file* ef, uint64_t addr, void* buf,
                  size_t len) {
  uint64_t off;
  const GElf_Phdr* ph = segment_of(ef, addr, len);
  ssize_t n;
  if (ph == NULL)
    return -ERANGE;
  off = addr - ph->p_vaddr + ph->p_offset;
  n = pread(ef->fd, buf, len, (off_t) off);
  return n == (ssize_t) len ? 0 : -EIO;
}

int elf_file_build_id(const struct elf_file* ef, char* buf, size_t size) {
  Elf_Scn* scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
    Elf_Data* data;
    GElf_Nhdr nh;
    size_t off = 0;
    size_t name_off;
    size_t desc_off;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE)
      continue;
    data = elf_getdata(scn, NULL);
    while (data != NULL &&
           (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
      const unsigned char* d = (const unsigned char*) data->d_buf + desc_off;
      size_t i;
      if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
          memcmp((const char*) data->d_buf + name_off, "GNU", 4) != 0)
        continue;
      if (size < 1)
        return -ENOENT;
      buf[0] = '\0';
      for (i = 0; i < nh.n_descsz && 2 * i + 2 < size; i++)
        snprintf(buf + 2 * i, 3, "%02x", d[i]);
      return 0;
    }
  }
  return -ENOENT;
}
