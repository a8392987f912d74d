/**
 * A person's avatar from their end-to-end encrypted profile: downloaded, checked and
 * decrypted once per image (the media cache), shown from a `blob:` URL. Nothing when this
 * device cannot read their profile or it has no avatar.
 */
import { useEffect, useState } from 'preact/hooks';
import type { WebDevice } from './device.js';
import { fromPointer } from './media.js';

export function Avatar(props: { device: WebDevice; userId: string; name: string }) {
  const { device, userId, name } = props;
  const pointer = device.contacts.avatar(userId);
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    setUrl(undefined);
    if (!pointer) return;
    let live = true;
    device.conversations.media.url(`avatar:${pointer.mediaId}`, fromPointer(pointer)).then(
      (u) => live && setUrl(u),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [device, pointer?.mediaId]);
  if (!url) return null;
  return <img class="avatar" src={url} alt={`${name}'s avatar`} width={40} height={40} />;
}
