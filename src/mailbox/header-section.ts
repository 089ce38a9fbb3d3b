/** A message's header section: where it ends, and the most of it any mailbox reads (RFC 5322 §2.1). */

/** The most of a message's header section a listing reads or keeps. */
export const HEADER_MAX = 256 * 1024;

/** The end of the header section in `bytes` (after its empty line), or undefined when there is none yet; `from` resumes a search. */
export function headerEnd(bytes: Buffer, from = 0): number | undefined {
  if (from === 0 && (bytes[0] === 0x0a || (bytes[0] === 0x0d && bytes[1] === 0x0a))) return bytes[0] === 0x0a ? 1 : 2;
  for (let at = bytes.indexOf(0x0a, Math.max(0, from - 2)); at >= 0 && at < bytes.length - 1; at = bytes.indexOf(0x0a, at + 1)) {
    if (bytes[at + 1] === 0x0a) return at + 2;
    if (bytes[at + 1] === 0x0d && bytes[at + 2] === 0x0a) return at + 3;
  }
  return undefined;
}

/** The header section of a message's bytes, cut at `max` when it has no end before. */
export function headerOf(bytes: Buffer, max = HEADER_MAX): Buffer {
  return bytes.subarray(0, Math.min(headerEnd(bytes) ?? bytes.length, max));
}
