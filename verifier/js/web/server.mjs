// A small static server for the demo page (localhost only):
//
//   /              web/index.html and web/main.mjs
//   /pkg/…         the `--target web` package (target/wasm-pkg/web)
//   /artifacts/…   a directory of `zkinfer run` outputs
//
// `node web/server.mjs [ARTIFACTS_DIR] [PORT]` serves until stopped (default
// port 8080; the page verifies ?dir=artifacts/<subdir>/ or artifacts/).
// The tests import startServer() and use a free port.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/** Serves the page, the package and `artifacts`; resolves to { url, close }. */
export function startServer({ artifacts, pkg = path.join(root, 'target/wasm-pkg/web'), port = 0 } = {}) {
  const mounts = [
    ['/pkg/', pkg],
    ['/artifacts/', artifacts],
    ['/', here],
  ].map(([prefix, dir]) => [prefix, dir && path.resolve(dir)]);
  const server = http.createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (pathname === '/') pathname = '/index.html';
    for (const [prefix, dir] of mounts) {
      if (!dir || !pathname.startsWith(prefix)) continue;
      const file = path.resolve(dir, '.' + pathname.slice(prefix.length - 1));
      // Nothing outside the mounted directory.
      if (file !== dir && !file.startsWith(dir + path.sep)) break;
      fs.readFile(file, (err, data) => {
        if (err) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}\n`);
        } else {
          const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
          res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(data);
        }
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const artifacts = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  const { url } = await startServer({ artifacts, port: Number(process.argv[3] ?? 8080) });
  console.log(`serving ${url} (artifacts: ${artifacts ?? 'none'}); open ${url}?dir=artifacts/`);
}
