/**
 * Input of `parley send` in its JSON-lines form: one `{"chatId","text"}` or
 * `{"to","text"}` object per line. Pure parsing, so it is tested without a server.
 */

export type SendTarget = { chatId: string } | { to: string };
export type SendLine = SendTarget & { text: string };

/** Parses one input line; throws an Error with a short reason when it is not valid. */
export function parseSendLine(line: string): SendLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.text !== 'string' || o.text === '') throw new Error('"text" must be a non-empty string');
  const hasChat = typeof o.chatId === 'string' && o.chatId !== '';
  const hasTo = typeof o.to === 'string' && o.to !== '';
  if (hasChat === hasTo) throw new Error('give exactly one of "chatId" or "to"');
  return hasChat ? { chatId: o.chatId as string, text: o.text } : { to: o.to as string, text: o.text };
}
