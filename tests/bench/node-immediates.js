// node-immediates.js — the worst case for a tracer of node's loop: N
// ticks that each run one empty setImmediate. Waits for SIGUSR2 after
// printing "ready PID" (a tracer attaches meanwhile) unless --now; then
// prints wall_ns, cpu_ns (the whole process, user + system: uprobe hits
// are paid in the kernel on the traced threads) and n.
//
//   node node-immediates.js N [--now]
'use strict';
const n = Number(process.argv[2] || 100000);

function run() {
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let left = n;
  const tick = () => {
    if (--left > 0) return setImmediate(tick);
    const cpu = process.cpuUsage(cpu0);
    console.log(`wall_ns: ${process.hrtime.bigint() - wall0}`);
    console.log(`cpu_ns: ${(cpu.user + cpu.system) * 1000}`);
    console.log(`n: ${n}`);
  };
  setImmediate(tick);
}

if (process.argv.includes('--now')) {
  run();
} else {
  const keepAlive = setInterval(() => {}, 1000);
  process.once('SIGUSR2', () => {
    clearInterval(keepAlive);
    run();
  });
  console.log(`ready ${process.pid}`);
}
