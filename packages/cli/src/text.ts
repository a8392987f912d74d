/**
 * Text shown on a terminal is stripped of control characters so a peer cannot move the
 * cursor or change colours with escape sequences.
 */

/** Replaces C0/C1 control characters (tab aside) and DEL with U+FFFD. */
export function forTerminal(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '\ufffd');
}
