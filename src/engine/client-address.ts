import { UsageError } from '../errors.js';
import { isIP, type IpFamily } from '../ip.js';
import type { Target } from '../scenario/types.js';
import { formatTarget } from './target-label.js';

/** Where the client connects from: a source address, and IPv4 or IPv6 only (swaks' --local-interface, -4, -6). */
export interface ClientAddress {
  localAddress?: string;
  family?: IpFamily;
}

/** The family connections are held to: the one asked for, else the source address's; undefined for either. */
export function familyOf(client: ClientAddress): IpFamily | undefined {
  if (client.family) return client.family;
  const own = client.localAddress === undefined ? 0 : isIP(client.localAddress);
  return own === 0 ? undefined : own;
}

/** Why a source address cannot be used with the family asked for; undefined when it can. */
export function clientAddressProblem(client: ClientAddress): string | undefined {
  if (client.localAddress === undefined) return undefined;
  const own = isIP(client.localAddress);
  if (own === 0) return `the local address must be an IP address of this machine, not "${client.localAddress}"`;
  if (client.family && own !== client.family) return `the local address ${client.localAddress} is an IPv${own} address, but the connections are to be IPv${client.family}`;
  return undefined;
}

/**
 * A TCP target with the client's source address and family; other targets as they are (a
 * socket or a command has no source address). A target that is an IP address of the other
 * family cannot be reached: unusable input.
 */
export function withClientAddress<T extends Target>(target: T, client: ClientAddress): T {
  if (target.kind !== undefined && target.kind !== 'tcp') return target;
  const family = familyOf(client);
  const literal = isIP(target.host);
  if (family && literal !== 0 && literal !== family) {
    throw new UsageError(`${formatTarget(target)} is an IPv${literal} address: it cannot be reached over IPv${family}`);
  }
  return {
    ...target,
    ...(client.localAddress !== undefined ? { localAddress: client.localAddress } : {}),
    ...(client.family ? { family: client.family } : {}),
  };
}
