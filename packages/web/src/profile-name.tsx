/**
 * The user's own name, as the end-to-end encrypted profile carries it: the people this user
 * chats with see it instead of a phone number once their device has the profile key (it goes
 * with the next message to them). The server stores only ciphertext.
 */
import { browserThumbnailer } from '@parley/sdk/browser';
import { useEffect, useState } from 'preact/hooks';
import type { WebDevice } from './device.js';
import { describeError } from './errors.js';

export function ProfileName({ device }: { device: WebDevice }) {
  const me = device.client.credentials.userId;
  const [name, setName] = useState('');
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    let live = true;
    device.secure.profile(me).then(
      (p) => {
        if (!live || !p?.name) return;
        setName(p.name);
        setSaved(p.name);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [device, me]);

  const save = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    device.secure.setProfile({ name: name.trim() }).then(
      (p) => {
        setSaved(p.name ?? '');
        setBusy(false);
      },
      (err) => {
        setError(describeError(err));
        setBusy(false);
      },
    );
  };

  // A photo becomes a small JPEG (at most 320 px, 32 KiB), encrypted and uploaded as the avatar.
  const setPhoto = (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    setError('');
    (async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const preview = await browserThumbnailer().prepare(bytes, file.type);
      if (!preview.thumbnail) throw new Error(preview.note ?? 'the photo could not be read');
      const avatar = await device.secure.uploadAvatar(preview.thumbnail.bytes, preview.thumbnail.mime);
      await device.secure.setProfile({ avatar });
    })().then(
      () => setBusy(false),
      (err) => {
        setError(describeError(err));
        setBusy(false);
      },
    );
  };

  return (
    <details class="profile-name">
      <summary>{saved ? `Your name: ${saved}` : 'Your name'}</summary>
      <form onSubmit={save}>
        <label for="profile-name">Name others see</label>
        <input
          id="profile-name"
          type="text"
          maxLength={64}
          autocomplete="name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy || name.trim() === saved}>
          {busy ? 'Saving…' : 'Save name'}
        </button>
        <label for="profile-photo">Your photo</label>
        <input
          id="profile-photo"
          type="file"
          accept="image/jpeg,image/png,image/webp"
          disabled={busy}
          onChange={(e) => setPhoto(e.currentTarget.files?.[0])}
        />
        <p role="alert" class="error">
          {error}
        </p>
      </form>
    </details>
  );
}
