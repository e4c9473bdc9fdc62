// The HTTP listener `serve` runs the app on, with the connection time limits that keep slow clients
// (slow-loris: headers or a body sent a byte at a time) from holding connections open.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { ServerSettings } from './config.js';

export type ListenerSettings = Pick<ServerSettings, 'host' | 'port' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;

/** Listens with the configured limits; resolves once listening. */
export async function startHttpServer(listener: RequestListener, settings: ListenerSettings): Promise<Server> {
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      // Node checks the two timeouts only this often (30 s by default), which would stretch a 15 s limit to 45 s.
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(settings.headersTimeoutMs / 4)),
    },
    listener,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
