import { SENT_HEADER_BYTES, type SessionState } from './session-state.js';
import type { Reply } from '../smtp/types.js';
import { headerEnd, headerOf } from '../mailbox/header-section.js';

/**
 * The header section of a message as it is sent, kept so that a later mailbox step can find the
 * message by its Message-ID: the first SENT_HEADER_BYTES at most, cut at the empty line that ends it.
 */
export class SentHeader {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private complete = false;

  /** The same bytes, passed on as they come; the first ones are copied (the source may reuse its memory). */
  async *through(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.take(chunk);
      yield chunk;
    }
  }

  take(chunk: Uint8Array): void {
    if (this.complete) return;
    const part = Buffer.from(chunk.subarray(0, SENT_HEADER_BYTES - this.size));
    this.parts.push(part);
    this.size += part.length;
    if (this.size >= SENT_HEADER_BYTES || headerEnd(Buffer.concat(this.parts)) !== undefined) this.complete = true;
  }

  /** The header section, with the empty line that ends it, without the body. */
  header(): Buffer {
    return headerOf(Buffer.concat(this.parts), SENT_HEADER_BYTES);
  }
}

/** After the reply to a message: a 2xx says the server took it, and a later mailbox step may look for it. */
export function noteSentMessage(state: SessionState, header: SentHeader, outcome: { main?: Reply; failure?: string }): void {
  const code = outcome.main?.code ?? 0;
  if (outcome.failure !== undefined || code < 200 || code >= 300) return;
  state.sentMessage = { header: header.header(), ...(state.envelopeId !== undefined ? { envelopeId: state.envelopeId } : {}), acceptedAt: performance.now() };
}
