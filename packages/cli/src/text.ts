/**
 * Payloads are UTF-8 text for now (end-to-end encryption arrives in the SDK later).
 * Text shown on a terminal is stripped of control characters so a peer cannot move the
 * cursor or change colours with escape sequences.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

export function decodeText(payload: Uint8Array): string {
  return decoder.decode(payload);
}

/** Replaces C0/C1 control characters (tab aside) and DEL with U+FFFD. */
export function forTerminal(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '\ufffd');
}
