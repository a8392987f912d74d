/**
 * Frame encoding for both subprotocols. Decoding never throws anything but a
 * ParleyError(BAD_FRAME), so a transport can map every failure to one error frame.
 */
import {
  create,
  fromBinary,
  fromJsonString,
  type MessageInitShape,
  toBinary,
  toJsonString,
} from '@bufbuild/protobuf';
import { ParleyError } from './errors.js';
import { type ChatUpdate, ChatUpdateSchema, type Frame, FrameSchema } from './gen/parley/v1/parley_pb.js';
import type { Encoding } from './version.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type FrameInit = MessageInitShape<typeof FrameSchema>;

export function makeFrame(init: FrameInit): Frame {
  return create(FrameSchema, init);
}

export function encodeFrame(frame: Frame, encoding: Encoding): Uint8Array | string {
  return encoding === 'proto' ? toBinary(FrameSchema, frame) : toJsonString(FrameSchema, frame);
}

/**
 * Decodes one frame. JSON keys the schema does not know are ignored (clients decode server
 * frames tolerantly); the server passes `rejectUnknownFields` so a misspelled key is BAD_FRAME.
 */
export function decodeFrame(
  data: Uint8Array | string,
  encoding: Encoding,
  options: { rejectUnknownFields?: boolean } = {},
): Frame {
  try {
    if (encoding === 'proto') {
      if (typeof data === 'string') throw new Error('text frame on the binary subprotocol');
      return fromBinary(FrameSchema, data);
    }
    const text = typeof data === 'string' ? data : utf8.decode(data);
    return fromJsonString(FrameSchema, text, { ignoreUnknownFields: !options.rejectUnknownFields });
  } catch (err) {
    throw new ParleyError('BAD_FRAME', `cannot decode frame: ${(err as Error).message}`, { cause: err });
  }
}

export type ChatUpdateInit = MessageInitShape<typeof ChatUpdateSchema>;

/** Chat updates travel inside Message bodies and are stored encoded. */
export function encodeChatUpdate(init: ChatUpdateInit): Uint8Array {
  return toBinary(ChatUpdateSchema, create(ChatUpdateSchema, init));
}

export function decodeChatUpdate(bytes: Uint8Array): ChatUpdate {
  return fromBinary(ChatUpdateSchema, bytes);
}
