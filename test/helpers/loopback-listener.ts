import type { AddressInfo, Server, Socket } from 'node:net';

/** A test server listening on a free loopback port, whose close() also ends every connection it holds. */
export interface LoopbackListener {
  port: number;
  /** Destroys every open connection and stops listening; the same promise each time. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 port 0 and keeps track of connections, so that close() never waits for a client. */
export async function listenOnLoopback(server: Server): Promise<LoopbackListener> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
