// A TLS-terminating TCP proxy (node:tls → plain TCP), what a site's reverse proxy does in front of a
// PACS. Used because Orthanc 1.10.1's own HTTPS (SslEnabled) crashes its civetweb worker on the first
// connection when built against OpenSSL 3 (civetweb issue #1316). Counts connections whose handshake
// succeeded, so a test can show nothing was sent after a refused certificate.
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createServer } from 'node:tls';

export interface TlsProxy {
  /** `https://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Connections that completed the TLS handshake. */
  readonly handshakes: number;
  close(): Promise<void>;
}

export async function startTlsProxy(options: { cert: Buffer; key: Buffer; target: { host: string; port: number } }): Promise<TlsProxy> {
  let handshakes = 0;
  const server = createServer({ cert: options.cert, key: options.key }, (socket) => {
    handshakes++;
    const upstream = connect(options.target.port, options.target.host);
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that refuses the certificate ends the handshake; that is expected, not a server failure.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get handshakes() {
      return handshakes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
