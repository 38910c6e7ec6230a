/* libuv_source.h — the libuv source: traces a stock libuv program (node,
 * or any program whose .symtab holds libuv) through uprobes on libuv's
 * own functions, and turns what they see into the looprt record stream
 * (runtime/include/looprt_trace.h) that the exporter reads.
 *
 *   libuv_source_find(pid, &src, why)          or libuv_source_open_cmd()
 *   libuv_source_attach(src, pid, rb, ex)      probes in, records flow
 *   ... ring_buffer__poll(rb) ...              records reach the exporter
 *   libuv_source_detach(src)                   probes out
 *   libuv_source_free(src)
 *
 * Facts and measurements: shared/research/node-attach.md.
 */
#ifndef LOOPTRACE_LIBUV_SOURCE_H
#define LOOPTRACE_LIBUV_SOURCE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct ring_buffer;
struct libuv_source;

/* Finds libuv in process `pid`: in its executable, else in a mapped
 * library whose name holds "uv" or "node". Returns 0 and sets *out;
 * -ENOENT (no libuv at all), -ENOEXEC (libuv there but unusable: `why`
 * says what is missing in one line), -ESRCH, -EACCES, or another
 * negative errno. */
int libuv_source_find(pid_t pid, struct libuv_source** out, char* why,
                      size_t size);

/* For `record -- CMD`: looks `cmd` up in PATH and opens it. Returns 0 and
 * sets *out when the executable holds libuv; -ENOENT when it does not
 * (another source may take it), -ENOEXEC with `why` when its libuv is
 * unusable, or the errno of finding it. The file stays open: the program
 * is started from that very file (libuv_source_exe_fd). */
int libuv_source_open_cmd(const char* cmd, struct libuv_source** out, char* why,
                          size_t size);

/* The open executable of libuv_source_open_cmd(), for execveat(2); -1
 * for a source found with libuv_source_find(). */
int libuv_source_exe_fd(const struct libuv_source* src);

/* Takes `size` bytes of looprt records (a whole number of them), as a
 * ring buffer callback does; returns 0 to go on. */
typedef int (*libuv_sink_cb)(void* ctx, void* records, size_t size);

/* Loads the BPF programs, attaches the probes for process `pid` and adds
 * the source's ring buffer to `rb`; from then on each ring_buffer__poll()
 * or __consume() of `rb` hands the records made to `sink`. Prints the
 * error line itself on failure and returns a negative errno. */
int libuv_source_attach(struct libuv_source* src, pid_t pid,
                        struct ring_buffer* rb, libuv_sink_cb sink,
                        void* sink_ctx);

/* One line for the user: what is traced, the probe count and the
 * expected cost per tick and per threadpool task. */
void libuv_source_describe(const struct libuv_source* src, FILE* out);

/* Prints the functions the source would probe (with their addresses in
 * the file) and the fallbacks it takes, one per line. */
void libuv_source_print(const struct libuv_source* src, FILE* out);

/* "1.46.0" */
const char* libuv_source_version(const struct libuv_source* src);

/* The fallbacks taken (what could not be seen), as a NULL-terminated
 * array of strings owned by the source. */
const char* const* libuv_source_fallbacks(const struct libuv_source* src);

/* The file the process names for libuv, and the process's name. */
const char* libuv_source_shown(const struct libuv_source* src);

/* Records the BPF side lost so far (ring buffer full). */
uint64_t libuv_source_drops(const struct libuv_source* src);

/* Records the probes put in the ring buffer that were not read from it
 * (still there, or on their way): call once reading has stopped. */
uint64_t libuv_source_unread(const struct libuv_source* src);

/* Stops the probes: from now on they take nothing (they stay in place
 * until detached). */
void libuv_source_stop(struct libuv_source* src);

/* Whether any probe is in place. */
int libuv_source_attached(const struct libuv_source* src);

/* Removes the probes (what the ring buffer holds stays to be read). */
void libuv_source_detach(struct libuv_source* src);

/* Frees it; NULL is fine. Detaches first if needed. */
void libuv_source_free(struct libuv_source* src);

#endif /* LOOPTRACE_LIBUV_SOURCE_H */
