/* labels.h — the label table of a recording: the names the runtime
 * announces (LRT_REC_LABEL chunks, runtime/include/looprt_trace.h) by id.
 *
 * Part of the tracer's sources stage (tracer/README.md): labels are
 * assembled as they are received, before the records are ordered, since
 * the runtime announces a label before its first use. The span model
 * reads names from it; the ordering's driver asks whether a label a
 * record names is known yet.
 */
#ifndef LOOPTRACE_LABELS_H
#define LOOPTRACE_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "looprt_trace.h"

/* Labels come in chunks of LRT_LABEL_CHUNK bytes, indexed in 7 bits, but
 * are at most LRT_LABEL_MAX_LEN bytes long. */
#define LABEL_CHUNKS ((LRT_LABEL_MAX_LEN + LRT_LABEL_CHUNK) / LRT_LABEL_CHUNK)
#define LABEL_TEXT_MAX (LABEL_CHUNKS * LRT_LABEL_CHUNK)
#define LABEL_IDS 65536

/* Every name_id labels_text() gives is at least this: smaller nonzero
 * ids are free for names that never change (span_model.c's vocabulary
 * names). */
#define LABELS_NAME_ID_MIN ((uint64_t) LABEL_IDS)

struct label;

struct labels {
  struct label** byid; /* LABEL_IDS, allocated when first seen */
  size_t n;            /* labels allocated in byid */
  uint64_t versions;   /* label texts that changed so far */
};

/* Sets up an empty table. Returns 0 or -ENOMEM. */
int labels_init(struct labels* ls);

/* Takes one LRT_REC_LABEL record. Returns 0, 1 when the record is
 * malformed (a chunk out of range, or a label whose chunks did not all
 * come: counted as invalid by the caller), or -ENOMEM. */
int labels_chunk(struct labels* ls, const struct lrt_record* r);

/* The text of label `id` (NUL-ended), or NULL while it is not complete;
 * NULL for id 0. Sets *name_id (when not NULL) to an id (at least
 * LABELS_NAME_ID_MIN) that stays with this text: it changes if the label
 * is announced again. */
const char* labels_text(const struct labels* ls, uint16_t id,
                        uint64_t* name_id);

/* Bytes the table holds. */
size_t labels_bytes(const struct labels* ls);

void labels_free(struct labels* ls);

#endif /* LOOPTRACE_LABELS_H */
