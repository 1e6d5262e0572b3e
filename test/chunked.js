// A node http server that answers with chunked bodies, for httpget's
// tests.  node chunked.js PORT listens on 127.0.0.1:PORT.
//   /chunked   three writes and a trailer (X-Checksum)
//   /slow      small chunks with pauses, so they arrive in many reads
//   /big       3 MiB of deterministic bytes in chunks of varying size
//   /empty     a chunked body with no data at all
//   anything else: 404
'use strict';
const http = require('http');

const port = parseInt(process.argv[2], 10);

// The same bytes on every run, so tests can compare against curl.
function bigBody() {
  const buf = Buffer.alloc(3 * 1024 * 1024);
  let x = 12345;
  for (let i = 0; i < buf.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}
const big = bigBody();

function sendBig(res) {
  let off = 0;
  let n = 1;
  // Sizes from 1 byte to 64 KiB test every chunk-size width.
  function more() {
    while (off < big.length) {
      const len = Math.min(n, big.length - off);
      const ok = res.write(big.subarray(off, off + len));
      off += len;
      n = n >= 65536 ? 7 : n * 3 + 1;
      if (!ok) {
        res.once('drain', more);
        return;
      }
    }
    res.end();
  }
  more();
}

http.createServer((req, res) => {
  if (req.url === '/chunked') {
    res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
    res.write('hello, ');
    res.write('chunked ');
    res.write('world\n');
    res.addTrailers({ 'X-Checksum': 'abc123' });
    res.end();
  } else if (req.url === '/slow') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    let i = 0;
    const t = setInterval(() => {
      res.write('line ' + i + '\n');
      if (++i === 10) {
        clearInterval(t);
        res.end();
      }
    }, 20);
  } else if (req.url === '/big') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    sendBig(res);
  } else if (req.url === '/empty') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end();
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  }
}).listen(port, '127.0.0.1');
