// slow-tick.js — a loop of ~1 ms ticks with one slow one (120 ms): the flight
// recorder's lesson on real Node.js.
//
//   node slow-tick.js
//
// Prints "ready" and idles until SIGUSR2 (so that a tracer attaches
// first: `looptrace record -p PID --flight ...`). Then a timer runs every
// tick, busy for 1 ms; 2.5 s on, one of them is busy for 120 ms, and right
// after it prints "slow_end_ns N": CLOCK_MONOTONIC (what process.hrtime
// reads on Linux, and looptrace's clock) when it returned. The ticks go
// on until a second SIGUSR2; then it prints "done" and exits.
'use strict';

const busy = (ms) => {
  const until = process.hrtime.bigint() + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < until);
};

function run() {
  const started = Date.now();
  let slowDone = false;
  let stop = false;
  process.on('SIGUSR2', () => { stop = true; });
  const tick = () => {
    if (!slowDone && Date.now() - started >= 2500) {
      busy(120);
      slowDone = true;
      console.log(`slow_end_ns ${process.hrtime.bigint()}`);
    } else {
      busy(1);
    }
    if (!stop) setTimeout(tick, 1);
    else console.log('done');
  };
  tick();
}

const idle = setInterval(() => {}, 1000);
process.once('SIGUSR2', () => {
  clearInterval(idle);
  setImmediate(run);
});
console.log('ready');
