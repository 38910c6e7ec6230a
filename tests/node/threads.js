// threads.js — the threadpool lesson on real Node.js: five pbkdf2 at
// once on the default pool of four threads, and a fs.readFile issued with
// them, whose steps (open, fstat, read, close) queue behind pbkdf2.
//
//   node threads.js [--wait]
//
// With --wait it idles until SIGUSR2 (so that a tracer attaches first:
// `looptrace record -p PID`); without, it starts after 300 ms. It prints
// one line per finished task and "done" at the end, then exits.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const ITERATIONS = Number(process.env.THREADS_ITERATIONS || 100000);

function run() {
  const started = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
  let left = 6;
  const finish = (what) => {
    console.log(`${what} done at ${ms().toFixed(1)} ms`);
    if (--left === 0) {
      console.log('done');
      clearInterval(keepAlive);
    }
  };
  setTimeout(() => {}, 0);
  setImmediate(() => {});
  for (let i = 1; i <= 5; i++) {
    crypto.pbkdf2('secret', 'salt', ITERATIONS, 64, 'sha512', (err) => {
      if (err) throw err;
      finish(`pbkdf2 ${i}`);
    });
  }
  fs.readFile(__filename, (err, data) => {
    if (err) throw err;
    finish(`readFile (${data.length} bytes)`);
  });
}

// Keeps the loop alive while waiting and while the work runs.
const keepAlive = setInterval(() => {}, 1000);
if (process.argv.includes('--wait')) {
  process.once('SIGUSR2', run);
  console.log(`ready ${process.pid}`);
} else {
  setTimeout(run, 300);
}
