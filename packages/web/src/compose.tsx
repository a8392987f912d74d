/**
 * The message box: Enter sends, Shift+Enter starts a new line, Escape drops a reply or an
 * edit. Files come by the labelled attach button or pasted into the box (the chat takes dropped
 * ones). While replying or editing, the message concerned shows above the box.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Line } from './conversations.js';

export type Draft =
  | { kind: 'new' }
  | { kind: 'reply'; seq: number }
  | { kind: 'edit'; seq: number; text: string };

export function Compose(props: {
  chatId: string;
  draft: Draft;
  quoted: Line | undefined;
  onSend: (text: string) => void;
  onFiles: (files: Iterable<File>) => void;
  onTyping: () => void;
  onDone: () => void;
}) {
  const { draft, quoted } = props;
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => {
    if (draft.kind === 'edit') setText(draft.text);
    box.current?.focus();
  }, [draft, props.chatId]);

  const send = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText('');
    props.onSend(body);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
    if (e.key === 'Escape' && draft.kind !== 'new') {
      if (draft.kind === 'edit') setText('');
      props.onDone();
    }
  };
  const onPaste = (e: ClipboardEvent) => {
    const files = e.clipboardData?.files;
    if (!files || files.length === 0) return;
    e.preventDefault();
    props.onFiles(files);
  };

  return (
    <form class="compose" onSubmit={send}>
      {draft.kind !== 'new' && (
        <div class="quote-bar">
          <span>
            {draft.kind === 'reply' ? 'Replying to: ' : 'Editing: '}
            <q>{quoted?.text || quoted?.file?.name || 'a message'}</q>
          </span>
          <button
            type="button"
            class="link"
            onClick={() => {
              if (draft.kind === 'edit') setText('');
              props.onDone();
            }}
          >
            Cancel
          </button>
        </div>
      )}
      <div class="row">
        <button type="button" class="icon" aria-label="Attach a file" onClick={() => picker.current?.click()}>
          +
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label="File to send"
          onChange={(e) => {
            const input = e.currentTarget;
            if (input.files?.length) props.onFiles([...input.files]);
            input.value = '';
          }}
        />
        <label for="message" class="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          ref={box}
          rows={1}
          placeholder="Message"
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            props.onTyping();
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
        />
        <button type="submit">{draft.kind === 'edit' ? 'Save' : 'Send'}</button>
      </div>
    </form>
  );
}
