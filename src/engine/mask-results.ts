import type { Transcript } from '../smtp/transcript.js';
import type { DeliveryResult } from './results.js';

/**
 * What a step found beyond the SMTP server's replies, masked before it is kept: a delivered message or a
 * DNS check's facts may carry a secret (a password quoted in a welcome mail, a domain from a secret variable).
 */

/** What a mailbox step found is shown masked: a message may quote a secret (a password in a welcome mail). */
export function maskDelivery(delivery: DeliveryResult, transcript: Transcript): DeliveryResult {
  if (!transcript.hasSecrets) return delivery;
  const mask = (text: string): string => transcript.mask(text);
  const found = delivery.found;
  return {
    ...delivery,
    lookedFor: mask(delivery.lookedFor),
    ...(delivery.newest ? { newest: delivery.newest.map(mask) } : {}),
    ...(found
      ? {
          found: {
            ...found,
            ...(found.subject !== undefined ? { subject: mask(found.subject) } : {}),
            ...(found.from !== undefined ? { from: mask(found.from) } : {}),
            ...(found.messageId !== undefined ? { messageId: mask(found.messageId) } : {}),
            ...(found.headers ? { headers: found.headers.map((header) => ({ name: header.name, value: mask(header.value) })) } : {}),
            ...(found.dsn ? { dsn: Object.fromEntries(Object.entries(found.dsn).map(([key, value]) => [key, mask(value)])) } : {}),
          },
        }
      : {}),
  };
}

/** Every string in a check's result masked: a domain or an address may come from a secret variable. */
export function maskStrings<T>(value: T, transcript: Transcript): T {
  if (typeof value === 'string') return transcript.mask(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskStrings(item, transcript)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskStrings(item, transcript)])) as T;
  }
  return value;
}
