// FAULT INJECTOR (test-only): a reverse proxy that holds every request for a while before passing it
// on to a real server (the dev FHIR server, Orthanc) and streaming the answer back — a slow server,
// which the real ones cannot be made to be. The delay can be changed while it runs.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  /** This proxy's origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** Where requests go (an origin); set before the first request. */
  target: string;
  delayMs: number;
  /** Requests received so far. */
  readonly count: number;
  close(): Promise<void>;
}

export async function startDelayProxy(delayMs: number): Promise<DelayProxy> {
  let count = 0;
  const state = { target: '', delayMs };
  const held = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    count++;
    const timer = setTimeout(() => {
      held.delete(timer);
      const upstream = httpRequest(`${state.target}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: new URL(state.target).host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    }, state.delayMs);
    held.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get target() {
      return state.target;
    },
    set target(value: string) {
      state.target = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    get count() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
