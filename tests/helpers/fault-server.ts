// FAULT INJECTOR (test-only): a plain HTTP server that misbehaves on purpose — never answers, answers
// 500, answers non-JSON, or hands out `next` links to another host — faults the real FHIR server
// cannot be made to produce. Records every request it receives, and counts TCP connections (so a test
// can prove a refused URL was never even connected to).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultServer {
  readonly baseUrl: string;
  readonly requests: { url: string; authorization: string | undefined }[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startFaultServer(respond: (req: IncomingMessage, res: ServerResponse) => void): Promise<FaultServer> {
  const requests: FaultServer['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    respond(req, res);
  });
  let connections = 0;
  server.on('connection', () => void connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const fhirJson = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json' }).end(JSON.stringify(body));
};
