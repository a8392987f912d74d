/**
 * Data frames written straight to a connection's socket. A server's WebSocket data frame is
 * its payload after a header of 2, 4 or 10 bytes (RFC 6455 5.2: final, unmasked, no
 * extension bits, since the gateway negotiates no compression). Built here as one buffer,
 * a frame is one chunk of the socket's writev instead of two (`ws` writes header and
 * payload apart), and a frame shared by a fan-out's recipients is framed once for all.
 */

/** Payloads above this go through `ws` (header apart), so a large one is never copied. */
export const FRAME_COPY_LIMIT = 16 * 1024;

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** The whole frame carrying `payload` (a string as UTF-8), binary or text as `ws.send` would. */
export function wsDataFrame(payload: Uint8Array | string, binary: boolean): Buffer {
  const text = typeof payload === 'string';
  const n = text ? Buffer.byteLength(payload) : payload.byteLength;
  const head = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = FIN | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (n < 126) out[1] = n;
  else if (n < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  if (text) out.write(payload, head, 'utf8');
  else out.set(payload, head);
  return out;
}

/**
 * Frames payloads, keeping the last one: a fan-out hands every recipient the same payload
 * object in a row, so it is framed once.
 */
export class FrameCache {
  private payload: Uint8Array | string | undefined;
  private binary = false;
  private frame: Buffer | undefined;

  get(payload: Uint8Array | string, binary: boolean): Buffer {
    if (payload !== this.payload || binary !== this.binary || this.frame === undefined) {
      this.frame = wsDataFrame(payload, binary);
      this.payload = payload;
      this.binary = binary;
    }
    return this.frame;
  }
}
