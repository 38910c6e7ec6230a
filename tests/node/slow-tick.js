// slow-tick.js — a loop of ~1 ms ticks with one slow one: the flight
// recorder's lesson on real Node.js.
//
//   node slow-tick.js
//
// Prints "ready" and idles until SIGUSR2 (so that a tracer attaches
// first: `looptrace record -p PID --flight ...`). Then a timer runs every
// tick, busy for 1 ms, for 2.5 s; one of them is busy for 80 ms; 2 s
// later it prints "done" and exits. Right after the slow callback it
// prints "slow_end_ns N": CLOCK_MONOTONIC (what process.hrtime reads on
// Linux, and looptrace's clock) when it returned.
'use strict';

const busy = (ms) => {
  const until = process.hrtime.bigint() + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < until);
};

function run() {
  const started = Date.now();
  let slowDone = false;
  const tick = () => {
    const elapsed = Date.now() - started;
    if (!slowDone && elapsed >= 2500) {
      busy(80);
      slowDone = true;
      console.log(`slow_end_ns ${process.hrtime.bigint()}`);
    } else {
      busy(1);
    }
    if (elapsed < 4500) setTimeout(tick, 1);
    else console.log('done');
  };
  tick();
}

const idle = setInterval(() => {}, 1000);
process.on('SIGUSR2', () => {
  clearInterval(idle);
  run();
});
console.log('ready');
