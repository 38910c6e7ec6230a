// order.js — setTimeout(0) and setImmediate set from a fs callback: the
// immediate runs in the check phase of that very tick, the timer in a
// later timers phase. Each callback marks itself with a synchronous fs
// call a tracer can see (access in the immediate, lstat in the timer).
//
//   node order.js [--wait]     (--wait: start on SIGUSR2)
'use strict';
const fs = require('fs');
const start = require('./start');

function run() {
  fs.readdir(__dirname, (err) => {
    if (err) throw err;
    setTimeout(() => {
      fs.lstatSync(__filename);
      console.log('timeout');
    }, 0);
    setImmediate(() => {
      fs.accessSync(__filename);
      console.log('immediate');
    });
  });
}

start(run);
