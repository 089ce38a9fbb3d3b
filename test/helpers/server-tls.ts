import type { TLSSocket } from 'node:tls';
import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { PemFiles, TestCertificates } from './certs.js';

/** smtp-server options that offer TLS with a test certificate: STARTTLS, or from the first byte with `secure: true`. */
export function serverTls(pems: PemFiles): Pick<SMTPServerOptions, 'key' | 'cert'> {
  return { key: pems.key, cert: pems.cert };
}

export interface TlsClient {
  /** The common name of the certificate the client presented. */
  name: string | undefined;
  authorized: boolean;
}

/**
 * smtp-server options for STARTTLS with the test server certificate that require a client
 * certificate from the test CA in the handshake; `onClient` hears of each client that got through.
 */
export function clientCertificateRequired(
  certs: TestCertificates,
  onClient: (client: TlsClient, session: SMTPServerSession) => void = () => {},
): Partial<SMTPServerOptions> {
  return {
    ...serverTls(certs.server),
    requestCert: true,
    rejectUnauthorized: true,
    ca: [certs.ca.cert],
    onSecure(socket, session, callback) {
      const tls = socket as TLSSocket;
      const name = tls.getPeerCertificate().subject?.CN;
      onClient({ name: Array.isArray(name) ? name.join(',') : name, authorized: tls.authorized }, session);
      callback();
    },
  };
}
