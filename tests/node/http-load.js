// http-load.js — a bounded load on 127.0.0.1:PORT: N requests, C at a
// time, each answer checked against what http-server.js must say.
//
//   node http-load.js PORT N [C]
//
// Prints "ok N requests, R/s" or "FAILED: ..." (exit 1).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const [port, total, conc = 8] = process.argv.slice(2).map(Number);
const size = fs.statSync(path.join(__dirname, 'http-server.js')).size;
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
let sent = 0;
let answered = 0;
const started = process.hrtime.bigint();

function fail(msg) {
  console.log(`FAILED: ${msg}`);
  process.exit(1);
}

function one() {
  if (sent === total) return;
  const id = ++sent;
  const req = http.get({ host: '127.0.0.1', port, path: `/r${id}`, agent },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200 || body !== `hello /r${id} ${size}`)
          fail(`request ${id}: status ${res.statusCode}, body "${body}"`);
        if (++answered === total) {
          const s = Number(process.hrtime.bigint() - started) / 1e9;
          console.log(`ok ${total} requests, ${(total / s).toFixed(0)}/s`);
          agent.destroy();
          return;
        }
        one();
      });
    });
  req.setTimeout(10000, () => fail(`request ${id} timed out`));
  req.on('error', (e) => fail(`request ${id}: ${e.message}`));
}

for (let i = 0; i < conc; i++) one();
