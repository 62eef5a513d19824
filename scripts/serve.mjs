// A static file server for the browser demo, on 127.0.0.1 only: examples/browser/ at /, and the
// project's weights/ at /weights/. No dependencies.
//   node scripts/serve.mjs [--port 8080]
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css', '.png': 'image/png', '.safetensors': 'application/octet-stream' };

/** Resolves a URL path under its mount; null for anything outside it. */
function resolvePath(urlPath) {
  const [mount, base] = urlPath.startsWith('/weights/') ? ['/weights/', join(root, 'weights')] : ['/', join(root, 'examples/browser')];
  const rel = normalize(decodeURIComponent(urlPath.slice(mount.length)) || 'index.html');
  const file = join(base, rel);
  return file === base || file.startsWith(base + sep) ? file : null;
}

/** Starts the server; port 0 picks a free one. Resolves to { server, url }. */
export function serve({ port = 8080, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    const file = resolvePath(new URL(req.url ?? '/', 'http://x').pathname);
    const st = file && (await stat(file).catch(() => null));
    if (!st?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, url: `http://${host}:${server.address().port}/` }));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--port');
  const { url } = await serve({ port: i > 0 ? Number(process.argv[i + 1]) : 8080 });
  console.log(`serving examples/browser at ${url} (Ctrl-C stops)`);
}
