import net, { type AddressInfo } from 'node:net';

/** A loopback port nobody listens on (it was free a moment ago): for connections that must be refused. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
