/* trace_names.h — the span categories of looptrace's trace files, shared
 * by the exporter (which writes them) and stat (which reads them); see
 * tracer/TRACE-FORMAT.md, "Spans". The tick, wait and submit spans are
 * also named after their category. Phase and callback-kind names are in
 * runtime/include/looprt_trace.h. */
#ifndef LOOPTRACE_TRACE_NAMES_H
#define LOOPTRACE_TRACE_NAMES_H

#define TRACE_CAT_TICK "tick"
#define TRACE_CAT_PHASE "phase"
#define TRACE_CAT_WAIT "wait"
#define TRACE_CAT_CALLBACK "callback"
#define TRACE_CAT_SUBMIT "submit"
#define TRACE_CAT_WORK "work"

#endif
