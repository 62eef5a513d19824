import type { Server } from 'node:http';
/** Serves examples/browser/ at / and weights/ at /weights/ on 127.0.0.1; port 0 picks a free one. */
export function serve(o?: { port?: number; host?: string }): Promise<{ server: Server; url: string }>;
