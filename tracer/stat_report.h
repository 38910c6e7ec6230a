/* stat_report.h — the two ways `looptrace stat` shows its figures: the
 * JSON object of TRACE-FORMAT.md ("The summary as JSON") and one screen
 * of text for a person. Both read only struct stat_figures, so they
 * always agree. */
#ifndef LOOPTRACE_STAT_REPORT_H
#define LOOPTRACE_STAT_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "stat_summary.h"

/* The summary as a new cJSON object (the caller deletes it with
 * cJSON_Delete). Times are µs, shares fractions; figures that could not be
 * computed are null. Returns NULL when out of memory. */
cJSON* stat_report_json(const struct stat_figures* f);

/* Writes the summary as aligned text to `out`; `title` (the file name)
 * heads it. Names from the trace are printed with control characters
 * replaced, so a trace cannot drive the terminal. Returns 0, or -EIO when
 * writing failed. */
int stat_report_text(const struct stat_figures* f, const char* title,
                     FILE* out);

/* Formats a duration for people into buf: "12.0 µs", "4.01 ms", "2.41 s"
 * (the unit chosen per value). Returns buf. */
char* stat_format_ns(uint64_t ns, char* buf, size_t size);

#endif /* LOOPTRACE_STAT_REPORT_H */
