// start.js — how a test program starts its work `run`: 300 ms after it
// starts, or, with --wait, on SIGUSR2 after printing "ready PID" (so that
// a tracer attaches first), the loop kept alive until then.
'use strict';

module.exports = function start(run) {
  if (!process.argv.includes('--wait')) {
    setTimeout(run, 300);
    return;
  }
  const keepAlive = setInterval(() => {}, 1000);
  process.once('SIGUSR2', () => {
    clearInterval(keepAlive);
    run();
  });
  console.log(`ready ${process.pid}`);
};
