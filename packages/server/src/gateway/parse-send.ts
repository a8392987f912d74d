/**
 * Validation of `send` bodies (also the items of `forward`) at the edge: ids, payload shape
 * and sizes, and the metadata rules that need no stored state. Rules that do (windows,
 * authorship, reaction limits) are checked in the commit transaction.
 */
import { ParleyError, type SendRequest, MessageType as WireType } from '@parley/protocol';
import type { SendInput } from '../chat/service.js';
import type { Config } from '../config/schema.js';
import type { ChatId, DeviceId, MessageMeta, MessageType, UserId } from '../ports/types.js';

const CLIENT_ID = /^[\x20-\x7e]{1,64}$/;
const MAX_ID = 64;
const MAX_MENTIONS = 50;
const MAX_REACTION_LENGTH = 16;
/** Bytes of one sealed push preview (protocol.md, sendRequest.pushPreviews). */
export const MAX_PUSH_PREVIEW_BYTES = 1024;
/** Push previews in one send: one per recipient device. */
export const MAX_PUSH_PREVIEWS = 2048;
/** Attachments one message may declare (sendRequest.mediaIds). */
export const MAX_MEDIA_IDS = 16;
const MEDIA_ID = /^[0-9a-f]{64}$/;

const TYPES: Record<number, MessageType> = {
  [WireType.UNSPECIFIED]: 'message',
  [WireType.EDIT]: 'edit',
  [WireType.DELETE]: 'delete',
  [WireType.REACTION]: 'reaction',
};

function checkId(value: string, field: string): void {
  if (value.length === 0 || value.length > MAX_ID) {
    throw new ParleyError('INVALID_ARGUMENT', `${field} must be 1..${MAX_ID} characters`);
  }
}

function parseMeta(r: SendRequest): MessageMeta | undefined {
  const m = r.meta;
  if (!m) return undefined;
  const type = TYPES[m.type];
  if (!type) throw new ParleyError('INVALID_ARGUMENT', 'unknown meta.type');
  if (m.refSeq > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ParleyError('INVALID_ARGUMENT', 'meta.refSeq out of range');
  const refSeq = Number(m.refSeq);
  if (type !== 'message' && refSeq === 0)
    throw new ParleyError('INVALID_ARGUMENT', `a ${type} needs meta.refSeq`);
  if (
    type === 'reaction' ? m.reaction.length > MAX_REACTION_LENGTH || /\s/.test(m.reaction) : m.reaction !== ''
  ) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `meta.reaction is one emoji (at most ${MAX_REACTION_LENGTH} characters) on reactions only`,
    );
  }
  if (m.mentions.length > MAX_MENTIONS)
    throw new ParleyError('INVALID_ARGUMENT', `at most ${MAX_MENTIONS} mentions`);
  for (const u of m.mentions) checkId(u, 'mentions');
  if (m.forwardCount > 1_000_000) throw new ParleyError('INVALID_ARGUMENT', 'meta.forwardCount out of range');
  return {
    type,
    refSeq,
    reaction: m.reaction,
    mentions: [...new Set(m.mentions)] as UserId[],
    forwardCount: m.forwardCount,
    ...(m.viewOnce && { viewOnce: true }),
  };
}

export function parseSend(r: SendRequest, config: Config): SendInput {
  if (!CLIENT_ID.test(r.clientMessageId)) {
    throw new ParleyError('INVALID_ARGUMENT', 'clientMessageId must be 1..64 printable ASCII characters');
  }
  checkId(r.chatId, 'chatId');
  const meta = parseMeta(r);
  const hasShared = r.payload.length > 0;
  const hasPerDevice = r.devicePayloads.length > 0;
  const payloadless = meta?.type === 'delete' || meta?.type === 'reaction';
  if (payloadless && (hasShared || hasPerDevice)) {
    throw new ParleyError('INVALID_ARGUMENT', `a ${meta.type} carries no payload`);
  }
  if (!payloadless && hasShared === hasPerDevice) {
    throw new ParleyError('INVALID_ARGUMENT', 'set exactly one of payload and devicePayloads');
  }
  if (hasShared && r.payload.length > config.maxPayloadBytes) {
    throw new ParleyError('PAYLOAD_TOO_LARGE', `payload is larger than ${config.maxPayloadBytes} bytes`);
  }
  let devicePayloads: Map<DeviceId, Uint8Array> | undefined;
  if (hasPerDevice) {
    devicePayloads = new Map();
    for (const p of r.devicePayloads) {
      if (p.payload.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'a device payload is empty');
      if (p.payload.length > config.maxPayloadBytes) {
        throw new ParleyError(
          'PAYLOAD_TOO_LARGE',
          `each device payload must be 1..${config.maxPayloadBytes} bytes`,
        );
      }
      checkId(p.deviceId, 'deviceId');
      const dev = p.deviceId as DeviceId;
      if (devicePayloads.has(dev)) throw new ParleyError('INVALID_ARGUMENT', `device ${dev} appears twice`);
      devicePayloads.set(dev, p.payload);
    }
  }
  return {
    clientMessageId: r.clientMessageId,
    chatId: r.chatId as ChatId,
    payload: hasShared ? r.payload : undefined,
    devicePayloads,
    meta,
    ...(r.pushPreviews.length > 0 && { pushPreviews: parsePreviews(r, meta) }),
    ...(r.mediaIds.length > 0 && { mediaIds: parseMediaIds(r.mediaIds, meta) }),
  };
}

/** The attachments a new message or an edit declares: distinct 64-hex ids, at most 16. */
function parseMediaIds(ids: readonly string[], meta: MessageMeta | undefined): string[] {
  if (meta && meta.type !== 'message' && meta.type !== 'edit')
    throw new ParleyError('INVALID_ARGUMENT', 'mediaIds go with new messages and edits only');
  if (ids.length > MAX_MEDIA_IDS)
    throw new ParleyError('INVALID_ARGUMENT', `at most ${MAX_MEDIA_IDS} mediaIds per message`);
  for (const id of ids) {
    if (!MEDIA_ID.test(id))
      throw new ParleyError(
        'INVALID_ARGUMENT',
        'each of mediaIds is a media id: the SHA-256 of the body, 64 lowercase hex digits',
      );
  }
  return [...new Set(ids)];
}

function parsePreviews(r: SendRequest, meta: MessageMeta | undefined): Map<DeviceId, Uint8Array> {
  if (meta && meta.type !== 'message')
    throw new ParleyError('INVALID_ARGUMENT', 'pushPreviews go with new messages only');
  if (r.pushPreviews.length > MAX_PUSH_PREVIEWS)
    throw new ParleyError('INVALID_ARGUMENT', `at most ${MAX_PUSH_PREVIEWS} pushPreviews`);
  const out = new Map<DeviceId, Uint8Array>();
  for (const p of r.pushPreviews) {
    checkId(p.deviceId, 'pushPreviews.deviceId');
    if (p.payload.length === 0 || p.payload.length > MAX_PUSH_PREVIEW_BYTES) {
      throw new ParleyError(
        'PAYLOAD_TOO_LARGE',
        `each push preview must be 1..${MAX_PUSH_PREVIEW_BYTES} bytes`,
      );
    }
    const dev = p.deviceId as DeviceId;
    if (out.has(dev)) throw new ParleyError('INVALID_ARGUMENT', `pushPreviews name device ${dev} twice`);
    out.set(dev, p.payload);
  }
  return out;
}
