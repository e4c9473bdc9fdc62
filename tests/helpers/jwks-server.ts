// A real JWKS endpoint on 127.0.0.1 (a real part: a client's key server) whose behaviour the test sets:
// the key set it serves can change (rotation), and it can answer slowly, redirect, or be stopped and
// started again on the same port (down, then back). It records every request it sees.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';

export type JwksBehaviour =
  | { kind: 'serve' }
  /** Holds each request this long before answering (past the service's jwksTimeoutMs). */
  | { kind: 'slow'; delayMs: number }
  /** 302 to `location`. */
  | { kind: 'redirect'; location: string };

export interface JwksServer {
  url: string;
  /** `GET /jwks.json` lines, one per request received. */
  requests: string[];
  jwks: JSONWebKeySet;
  behaviour: JwksBehaviour;
  /** Closes the listener (connections refused) until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function serveJwks(initial: JSONWebKeySet): Promise<JwksServer> {
  const held = new Set<NodeJS.Timeout>();
  let server: Server;
  let port = 0;
  const state: JwksServer = {
    url: '',
    requests: [],
    jwks: initial,
    behaviour: { kind: 'serve' },
    stop: () => close(server),
    start: () => listen(),
    close: async () => {
      for (const timer of held) clearTimeout(timer);
      if (server.listening) await close(server);
    },
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    state.requests.push(`${req.method ?? '?'} ${req.url ?? ''}`);
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    const { behaviour } = state;
    const answer = (): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.jwks));
    if (behaviour.kind === 'redirect') res.writeHead(302, { location: behaviour.location }).end();
    else if (behaviour.kind === 'slow') {
      const timer = setTimeout(() => {
        held.delete(timer);
        if (!res.destroyed) answer();
      }, behaviour.delayMs);
      held.add(timer);
    } else answer();
  };
  const listen = async (): Promise<void> => {
    server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    state.url = `http://127.0.0.1:${port}/jwks.json`;
  };
  await listen();
  return state;
}

function close(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}
