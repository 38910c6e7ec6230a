// http-server.js — a small HTTP server on 127.0.0.1 (port 0: the kernel
// picks; printed as "listening PORT"). Each request does a fs.stat on the
// threadpool, then answers "hello <path> <size of this file>".
'use strict';
const http = require('http');
const fs = require('fs');

const server = http.createServer((req, res) => {
  fs.stat(__filename, (err, st) => {
    if (err) {
      res.writeHead(500);
      res.end(String(err));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.url} ${st.size}`);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
