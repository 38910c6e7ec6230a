/* labels.c — see labels.h. */
#include "labels.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct label {
  uint64_t name_id;          /* 0 until complete */
  uint32_t chunks;           /* chunks received of the one in progress */
  char text[LABEL_TEXT_MAX]; /* being assembled */
  char done[LABEL_TEXT_MAX + 1];
};

int labels_init(struct labels* ls) {
  ls->versions = 0;
  ls->n = 0;
  ls->byid = calloc(LABEL_IDS, sizeof(*ls->byid));
  return ls->byid == NULL ? -ENOMEM : 0;
}

int labels_chunk(struct labels* ls, const struct lrt_record* r) {
  unsigned chunk = r->kind & ~LRT_LABEL_LAST;
  struct label* l;
  size_t len;
  if (r->label == 0 || chunk >= LABEL_CHUNKS)
    return 1;
  l = ls->byid[r->label];
  if (l == NULL) {
    l = calloc(1, sizeof(*l));
    if (l == NULL)
      return -ENOMEM;
    ls->byid[r->label] = l;
    ls->n++;
  }
  if (chunk == 0)
    l->chunks = 0;
  memcpy(l->text + chunk * LRT_LABEL_CHUNK, r->text, LRT_LABEL_CHUNK);
  l->chunks |= 1u << chunk;
  if (!(r->kind & LRT_LABEL_LAST))
    return 0;
  /* Complete only if every chunk up to this one came. */
  if (l->chunks != (2u << chunk) - 1) {
    l->chunks = 0;
    return 1;
  }
  len = chunk * LRT_LABEL_CHUNK +
        strnlen(l->text + chunk * LRT_LABEL_CHUNK, LRT_LABEL_CHUNK);
  l->chunks = 0;
  /* The runtime announces its whole table again now and then: the same
   * text keeps its name_id. */
  if (l->name_id != 0 && memcmp(l->done, l->text, len) == 0 &&
      l->done[len] == '\0')
    return 0;
  memcpy(l->done, l->text, len);
  l->done[len] = '\0';
  l->name_id = (uint64_t) r->label | ++ls->versions * LABELS_NAME_ID_MIN;
  return 0;
}

const char* labels_text(const struct labels* ls, uint16_t id,
                        uint64_t* name_id) {
  const struct label* l = ls->byid[id];
  if (id == 0 || l == NULL || l->name_id == 0)
    return NULL;
  if (name_id != NULL)
    *name_id = l->name_id;
  return l->done;
}

size_t labels_bytes(const struct labels* ls) {
  return LABEL_IDS * sizeof(*ls->byid) + ls->n * sizeof(struct label);
}

void labels_free(struct labels* ls) {
  size_t i;
  if (ls->byid == NULL)
    return;
  /* Up to the last one allocated: ids are given from 1 up. */
  for (i = 0; ls->n > 0 && i < LABEL_IDS; i++)
    if (ls->byid[i] != NULL) {
      free(ls->byid[i]);
      ls->n--;
    }
  free(ls->byid);
  ls->byid = NULL;
}
