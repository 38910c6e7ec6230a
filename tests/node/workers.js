// workers.js — worker_threads: two Workers, each with its own libuv loop,
// do fs work on the shared threadpool while the main thread does too.
// Each loop is a loop of its own in a trace.
//
//   node workers.js [--wait]     (--wait: start on SIGUSR2)
'use strict';
const { Worker, isMainThread, parentPort } = require('worker_threads');
const fs = require('fs');
const start = require('./start');

function statRounds(n, done) {
  let i = 0;
  const next = () => {
    if (i++ === n) return done();
    fs.stat(__filename, (err) => {
      if (err) throw err;
      setImmediate(next);
    });
  };
  next();
}

if (!isMainThread) {
  statRounds(20, () => parentPort.postMessage('worker done'));
} else {
  const run = () => {
    let left = 3;
    const finish = (what) => {
      console.log(what);
      if (--left === 0) console.log('done');
    };
    for (let i = 0; i < 2; i++) {
      const w = new Worker(__filename);
      w.on('message', (m) => finish(`${m} ${i + 1}`));
    }
    statRounds(20, () => finish('main done'));
  };
  start(run);
}
