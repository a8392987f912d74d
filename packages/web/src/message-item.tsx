/**
 * One message in a chat: the message it replies to, its text or file (an image decrypted and
 * shown inline, another file as a download link), upload progress while it goes, reactions,
 * time, ticks for the sender, and its actions (reply, react, edit and delete for its sender).
 */
import type { ChatInfo } from '@parley/sdk/browser';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Conversations, FileRef, Line } from './conversations.js';
import { timeLabel } from './format.js';
import { isImage, isVideo, thumbnailUrl } from './media.js';

const TICKS = {
  pending: { mark: '🕓', label: 'Sending' },
  failed: { mark: '!', label: 'Not sent' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
} as const;

export const REACTIONS = ['👍', '❤️', '😂', '😮', '🙏'] as const;

export function MessageItem(props: {
  line: Line;
  chat: ChatInfo;
  others: readonly string[];
  /** How a member shows (phone number when known). */
  name: (userId: string) => string;
  conversations: Conversations;
  onReply: () => void;
  onEdit: () => void;
  onError: (err: unknown) => void;
}) {
  const { line: l, chat, others, conversations: c } = props;
  const [menu, setMenu] = useState(false);
  const t = l.mine
    ? TICKS[l.sending ?? (l.seq === undefined ? 'pending' : c.status(chat.id, l.seq, others))]
    : undefined;
  const quoted = l.replyTo !== undefined ? c.find(chat.id, l.replyTo) : undefined;
  const progress = c.progressOf(l.key);
  const me = chat.members.find((m) => others.every((o) => o !== m.userId))?.userId;
  const mine = me !== undefined ? l.reactions?.[me] : undefined;
  const act = (work: () => Promise<void>) => {
    setMenu(false);
    work().catch(props.onError);
  };
  const counts = new Map<string, number>();
  for (const e of Object.values(l.reactions ?? {})) counts.set(e, (counts.get(e) ?? 0) + 1);

  return (
    <li class={l.mine ? 'mine' : 'theirs'} data-seq={l.seq}>
      {!l.mine && others.length > 1 && <span class="sender">{props.name(l.senderUserId)}</span>}
      {l.replyTo !== undefined && (
        <blockquote class="reply-to">
          {quoted ? quoted.text || quoted.file?.name || '…' : 'An earlier message'}
        </blockquote>
      )}
      {l.deleted ? (
        <span class="text deleted">This message was deleted.</span>
      ) : (
        <>
          {l.file && <Attachment line={l} file={l.file} conversations={c} onError={props.onError} />}
          {l.text && <span class="text">{l.text}</span>}
          {l.previewNote && <span class="preview-note">Preview: {l.previewNote}</span>}
        </>
      )}
      {progress && (
        <progress
          class="upload"
          aria-label={`Uploading ${l.file?.name ?? 'file'}`}
          max={progress.total || 1}
          value={progress.sent}
        />
      )}
      {counts.size > 0 && (
        <span class="reactions">
          <span class="visually-hidden">Reactions: </span>
          {[...counts].map(([e, n]) => (
            <span key={e} class="reaction">
              {e}
              {n > 1 ? ` ${n}` : ''}
            </span>
          ))}
        </span>
      )}
      <span class="meta">
        {l.viewOnce && 'view once · '}
        {l.edited && !l.deleted && 'edited · '}
        {timeLabel(l.serverTime)}
        {t && (
          <span class={`tick ${t.label.toLowerCase().replace(' ', '-')}`} title={t.label}>
            {' '}
            <span aria-hidden="true">{t.mark}</span>
            <span class="visually-hidden">{t.label}</span>
          </span>
        )}
      </span>
      {l.seq !== undefined && !l.deleted && (
        <div class="message-actions">
          <button
            type="button"
            class="link small"
            aria-expanded={menu}
            aria-label="Message actions"
            onClick={() => setMenu(!menu)}
          >
            ⋯
          </button>
          {menu && (
            <fieldset class="menu">
              <legend class="visually-hidden">Actions</legend>
              <button
                type="button"
                class="link small"
                onClick={() => {
                  setMenu(false);
                  props.onReply();
                }}
              >
                Reply
              </button>
              {REACTIONS.map((e) => (
                <button
                  key={e}
                  type="button"
                  class="link small"
                  aria-label={mine === e ? `Remove reaction ${e}` : `React ${e}`}
                  aria-pressed={mine === e}
                  onClick={() => act(() => c.react(chat.id, l.seq!, mine === e ? '' : e))}
                >
                  {e}
                </button>
              ))}
              {l.mine && l.text && !l.file && (
                <button
                  type="button"
                  class="link small"
                  onClick={() => {
                    setMenu(false);
                    props.onEdit();
                  }}
                >
                  Edit
                </button>
              )}
              {l.mine && (
                <button type="button" class="link small" onClick={() => act(() => c.remove(chat.id, l.seq!))}>
                  Delete for everyone
                </button>
              )}
            </fieldset>
          )}
        </div>
      )}
    </li>
  );
}

/** An image shown once decrypted; any other file as a link that saves it (a video under its poster). */
function Attachment(props: {
  line: Line;
  file: FileRef;
  conversations: Conversations;
  onError: (e: unknown) => void;
}) {
  const { line, file, conversations } = props;
  const [url, setUrl] = useState<string | undefined>();
  const [failed, setFailed] = useState(false);
  const ready = file.mediaId !== '' || line.sending !== undefined;
  const image = isImage(file);
  const video = isVideo(file);
  useEffect(() => {
    if (!image || !ready) return;
    let live = true;
    conversations.media.url(line.key, file).then(
      (u) => live && setUrl(u),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [line.key, file.mediaId, image, ready]);
  // The thumbnail from the pointer holds the image's place until the image is decrypted; a
  // video's is its poster frame, shown before anything is downloaded.
  const thumb = useMemo(
    () => ((image && !url) || video ? thumbnailUrl(file) : undefined),
    [image, video, url, file.thumb?.b64],
  );
  useEffect(() => () => thumb && URL.revokeObjectURL(thumb), [thumb]);
  const name = file.name || 'file';
  if (image) {
    if (url) return <img class="preview" src={url} alt={`Image: ${name}`} />;
    if (thumb && !failed)
      return (
        <img
          class="preview thumb"
          src={thumb}
          alt={`Image: ${name} (loading)`}
          width={file.width}
          height={file.height}
        />
      );
    return <span class="file">{failed ? `Image ${name} could not be opened.` : `Image ${name}…`}</span>;
  }
  const save = () => {
    conversations.media.url(line.key, file).then((u) => {
      const a = document.createElement('a');
      a.href = u;
      a.download = name;
      a.click();
    }, props.onError);
  };
  const length = file.durationMs !== undefined ? `, ${formatDuration(file.durationMs)}` : '';
  const download = (
    <button type="button" class="link file" onClick={save}>
      Download {name} ({formatSize(file.size)}
      {length})
    </button>
  );
  if (!video || !thumb) return download;
  return (
    <span class="video">
      <img
        class="preview poster"
        src={thumb}
        alt={`Video: ${name}`}
        width={file.thumb?.width}
        height={file.thumb?.height}
      />
      {download}
    </span>
  );
}

/** 0:07, 3:25, 1:02:09. */
function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
