/**
 * Opening a chat from outside the chat list: the address `/#/chat/<id>` (a notification clicked
 * while no tab was open) and the service worker's message to an open tab.
 */
export interface OpenChatMessage {
  type: 'parley-open-chat';
  chatId: string;
}

export const openChatMessage = (chatId: string): OpenChatMessage => ({ type: 'parley-open-chat', chatId });

/** The chat id of a message from the service worker, if it is one. */
export function openChatOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  return m.type === 'parley-open-chat' && typeof m.chatId === 'string' && m.chatId.length <= 256
    ? m.chatId
    : undefined;
}

/** The chat id in `/#/chat/<id>`, if the address names one. */
export function chatOfHash(hash: string): string | undefined {
  const raw = /^#\/chat\/([^/?#\s]{1,600})$/.exec(hash)?.[1];
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
