/* gate_on.c — for build/bench/gated/workloads: the runtime's event sites
 * on for the whole run, as if a tracer were attached, with no tracer (its
 * flush probe fires into nothing). What the runtime itself does per
 * record, counted by callgrind in `make bench` (attached_instr_*). */
extern volatile unsigned short lrt__semaphore;

__attribute__((constructor)) static void gate_on(void) {
  lrt__semaphore = 1;
}
