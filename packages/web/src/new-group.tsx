/**
 * "New group" under the chat list: a name and the members' phone numbers; the group is
 * created with this user as its creator and opens at once.
 */
import type { ChatInfo } from '@parley/sdk/browser';
import { useState } from 'preact/hooks';
import type { WebDevice } from './device.js';
import { describeError } from './errors.js';
import { createGroup, splitPhones } from './new-chat.js';
import { PhonesInput } from './phone-input.js';

export function NewGroup(props: { device: WebDevice; onOpen: (chat: ChatInfo) => void }) {
  const [name, setName] = useState('');
  const [phones, setPhones] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const create = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    createGroup(props.device.client, props.device.contacts, name, splitPhones(phones))
      .then(props.onOpen, (err) => setError(describeError(err)))
      .finally(() => setBusy(false));
  };
  return (
    <details class="new-group">
      <summary>New group</summary>
      <form onSubmit={create}>
        <label for="group-name">Group name</label>
        <input
          id="group-name"
          value={name}
          required
          maxLength={100}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <label for="group-members">Members (phone numbers, separated by commas)</label>
        <PhonesInput id="group-members" value={phones} onChange={setPhones} />
        <button type="submit" disabled={busy}>
          Create group
        </button>
        <p role="alert" class="error">
          {error}
        </p>
      </form>
    </details>
  );
}
