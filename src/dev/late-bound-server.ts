// An HTTP server that listens before its handler exists: a service whose configuration must name its
// own URL (the SMART app's redirect URI, the JWT audience) learns the port first, then binds the app.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LateBoundServer {
  url: string;
  bind(handler: RequestListener): void;
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>;
}

export async function listenLate(host: string, port: number): Promise<LateBoundServer> {
  let handler: RequestListener | undefined;
  const server = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    bind: (h) => void (handler = h),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
