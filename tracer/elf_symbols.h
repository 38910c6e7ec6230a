/* elf_symbols.h — the symbols of an ELF file, read with libelf: function
 * lookup by name and by address, addresses to file offsets (for uprobes),
 * the bytes at an address, the build-id.
 */
#ifndef LOOPTRACE_ELF_SYMBOLS_H
#define LOOPTRACE_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct elf_file;

/* One function symbol of .symtab. */
struct elf_sym {
  const char* name; /* valid until elf_file_close() */
  uint64_t addr;    /* st_value: the address in the file's address space */
  uint64_t size;
  int local; /* STB_LOCAL */
};

/* Opens the ELF file on `fd` (not taken: the caller closes it after
 * elf_file_close()). Returns 0 and sets *out, or -ENOEXEC (not ELF),
 * -ENOMEM. */
int elf_file_open(struct elf_file** out, int fd);

void elf_file_close(struct elf_file* ef);

/* Whether the file has a .symtab (a stripped one has only .dynsym). */
int elf_file_has_symtab(const struct elf_file* ef);

/* Whether .dynsym (the exports, kept by strip) defines function `name`. */
int elf_file_exports(const struct elf_file* ef, const char* name);

/* Whether it is position independent (ET_DYN): its addresses move by a
 * load bias. */
int elf_file_is_dyn(const struct elf_file* ef);

/* Calls `cb` for every defined function symbol of .symtab, in table
 * order, until it returns non-zero (returned then). Returns 0 or
 * -ENOENT when there is no .symtab. */
int elf_file_foreach_func(struct elf_file* ef,
                          int (*cb)(const struct elf_sym* sym, void* ctx),
                          void* ctx);

/* The function symbol of .symtab that contains `addr`; returns 0 and
 * fills *sym, or -ENOENT. */
int elf_file_func_at(struct elf_file* ef, uint64_t addr, struct elf_sym* sym);

/* The file offset of address `addr` (in a PT_LOAD segment's file part);
 * returns 0 or -ERANGE. */
int elf_file_offset(const struct elf_file* ef, uint64_t addr, uint64_t* off);

/* The offset minus the address in the executable PT_LOAD segment that
 * holds `addr` (so that a mapping of file offset O at M puts address A at
 * M - O + A + delta); returns 0 or -ERANGE. */
int elf_file_segment_delta(const struct elf_file* ef, uint64_t addr,
                           int64_t* delta);

/* Reads `len` bytes at address `addr` of the file. Returns 0, -ERANGE
 * (not in the file), or -EIO. */
int elf_file_read(const struct elf_file* ef, uint64_t addr, void* buf,
                  size_t len);

/* The GNU build-id as hex into `buf`; returns 0 or -ENOENT. */
int elf_file_build_id(const struct elf_file* ef, char* buf, size_t size);

#endif /* LOOPTRACE_ELF_SYMBOLS_H */
