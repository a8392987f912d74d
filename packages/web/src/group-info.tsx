/**
 * A chat's info: its members with their roles and, in a group, what an admin may do: add people
 * by phone number, remove them, make them admins, and share an invite link (which opens the
 * group for whoever follows it while signed in here). Anyone may leave a group.
 */
import { type ChatInfo, ChatKind, isMuted, Role } from '@parley/sdk/browser';
import { useState } from 'preact/hooks';
import type { WebDevice } from './device.js';
import { describeError } from './errors.js';
import { chatTitle } from './format.js';
import { splitPhones } from './new-chat.js';
import { PhonesInput } from './phone-input.js';
import { useChat } from './use-chat.js';

const ROLE_TEXT: Partial<Record<Role, string>> = {
  [Role.CREATOR]: 'Creator',
  [Role.ADMIN]: 'Admin',
};

export function GroupInfo(props: {
  chat: ChatInfo;
  me: string;
  device: WebDevice;
  onBack: () => void;
  onLeft: () => void;
}) {
  const { me, device } = props;
  const client = device.client;
  const [chat, setChat] = useChat(client, props.chat);
  const [error, setError] = useState('');
  const [phones, setPhones] = useState('');
  const [invite, setInvite] = useState<string | undefined>();
  const [safety, setSafety] = useState<string | undefined>();
  const other = chat.kind === ChatKind.DIRECT ? chat.members.find((m) => m.userId !== me)?.userId : undefined;
  const name = (id: string) => (id === me ? 'You' : device.contacts.name(id));
  const myRole = chat.members.find((m) => m.userId === me)?.role;
  const admin = myRole === Role.ADMIN || myRole === Role.CREATOR;
  const group = chat.kind === ChatKind.GROUP;
  const run = (work: () => Promise<unknown>) => {
    setError('');
    work().catch((err) => setError(describeError(err)));
  };
  const add = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const ids = await device.contacts.resolve(client, splitPhones(phones));
      setChat(await client.addMembers(chat.id, ids));
      setPhones('');
    });
  };

  return (
    <div class="shell group-info">
      <header class="bar">
        <button type="button" class="link" onClick={props.onBack}>
          ‹ Chat
        </button>
        <h1>{chatTitle(chat, me, device.contacts.name.bind(device.contacts))}</h1>
      </header>
      <main>
        <section aria-labelledby="members-title">
          <h2 id="members-title">{group ? `${chat.members.length} members` : 'Members'}</h2>
          <ul class="members" aria-labelledby="members-title">
            {chat.members.map((m) => (
              <li key={m.userId} data-user-id={m.userId}>
                <span class="who">{name(m.userId)}</span>
                {ROLE_TEXT[m.role] && <span class="role">{ROLE_TEXT[m.role]}</span>}
                {group && admin && m.userId !== me && m.role === Role.MEMBER && (
                  <button
                    type="button"
                    class="link small"
                    onClick={() => run(async () => setChat(await client.setRole(chat.id, m.userId, 'admin')))}
                  >
                    Make <span class="visually-hidden">{name(m.userId)} </span>admin
                  </button>
                )}
                {group && admin && m.userId !== me && m.role !== Role.CREATOR && (
                  <button
                    type="button"
                    class="link small"
                    onClick={() => run(async () => setChat(await client.removeMember(chat.id, m.userId)))}
                  >
                    Remove<span class="visually-hidden"> {name(m.userId)}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
        {group && admin && (
          <section>
            <form onSubmit={add}>
              <label for="add-members">Add members (phone numbers)</label>
              <div class="row">
                <PhonesInput id="add-members" value={phones} onChange={setPhones} />
                <button type="submit">Add</button>
              </div>
            </form>
          </section>
        )}
        {group && admin && (
          <section>
            <button
              type="button"
              onClick={() =>
                run(async () => {
                  const { code } = await client.createInvite(chat.id);
                  setInvite(`${location.origin}/#join=${encodeURIComponent(code)}`);
                })
              }
            >
              Create invite link
            </button>
            {invite && (
              <p class="invite">
                Invite link: <output>{invite}</output>
              </p>
            )}
          </section>
        )}
        <section>
          {isMuted(chat.mutedUntil, Date.now()) ? (
            <button
              type="button"
              class="link"
              onClick={() =>
                run(async () => {
                  await client.unmute(chat.id);
                  setChat(await client.getChat(chat.id));
                })
              }
            >
              Unmute
            </button>
          ) : (
            <button
              type="button"
              class="link"
              onClick={() =>
                run(async () => {
                  await client.mute(chat.id, 'forever');
                  setChat(await client.getChat(chat.id));
                })
              }
            >
              Mute notifications
            </button>
          )}
        </section>
        {other && (
          <section class="safety" aria-labelledby="safety-title">
            <h2 id="safety-title">Safety number</h2>
            <p class="help">
              Compare it with the number on {name(other)}'s screen: if they match, nobody is in between.
            </p>
            {safety ? (
              <output aria-label="Safety number">{safety}</output>
            ) : (
              <button
                type="button"
                onClick={() => run(async () => setSafety((await device.secure.safetyNumber(other)).digits))}
              >
                Show safety number
              </button>
            )}
          </section>
        )}
        {group && (
          <section>
            <button
              type="button"
              class="link"
              onClick={() =>
                run(async () => {
                  await client.leaveChat(chat.id);
                  props.onLeft();
                })
              }
            >
              Leave group
            </button>
          </section>
        )}
        <p role="alert" class="error">
          {error}
        </p>
      </main>
    </div>
  );
}
