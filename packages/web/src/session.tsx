/**
 * A signed-in browser: takes the device lock (another tab may hold it: this one says so and
 * waits), opens the device and its end-to-end messaging, then shows the chat list or a chat.
 */
import { type ChatInfo, type Credentials, removeDevice } from '@parley/sdk/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CallLayer } from './calls/call-layer.js';
import { ChatView } from './chat.js';
import { Chats } from './chats.js';
import { forgetDevice, holdDeviceLock, openDevice, type WebDevice } from './device.js';
import { describeError } from './errors.js';
import { GroupInfo } from './group-info.js';
import { askNotifyPermission, notificationsOn, notifyIncoming, setNotificationsOff } from './notify.js';
import { chatOfHash, openChatOf } from './open-chat.js';
import { type PushDevice, saveChatNames, startWebPush, stopWebPush } from './web-push.js';

type State =
  | { kind: 'starting' }
  | { kind: 'other-tab' }
  | { kind: 'failed'; message: string }
  | { kind: 'ready'; device: WebDevice };

export function Session(props: { credentials: Credentials; onSignedOut: () => void }) {
  const { credentials, onSignedOut } = props;
  const [state, setState] = useState<State>({ kind: 'starting' });
  const [open, setOpen] = useState<ChatInfo | undefined>();
  const [info, setInfo] = useState(false);
  const openId = useRef<string | undefined>(undefined);
  openId.current = open?.id;
  const ready = state.kind === 'ready' ? state.device : undefined;
  useEffect(() => {
    if (!ready) return;
    const c = ready.conversations;
    c.onIncoming = (chatId, line) =>
      notifyIncoming(
        {
          openChatId: () => openId.current,
          chat: (id) => c.chats?.find((x) => x.id === id),
          senderName: (userId) => ready.contacts.name(userId),
        },
        chatId,
        line,
      );
    return () => {
      c.onIncoming = undefined;
    };
  }, [ready]);

  // Notifications: on or off here, and a calm word when pushes with the tab closed cannot come.
  const [notifyOn, setNotifyOn] = useState(notificationsOn);
  const [pushNote, setPushNote] = useState('');
  const pushDevice = (d: WebDevice): PushDevice => ({
    client: d.client,
    chats: () => d.conversations.chats,
    name: (userId) => d.contacts.name(userId),
  });
  useEffect(() => {
    if (!ready) return;
    const d = pushDevice(ready);
    let live = true;
    // At each start: the subscription may have changed, or the node lost the registration.
    if (notificationsOn()) void startWebPush(d).then((note) => live && setPushNote(note ?? ''));
    ready.conversations.onListed = () => void saveChatNames(d).catch(() => {});
    return () => {
      live = false;
      ready.conversations.onListed = undefined;
    };
  }, [ready]);
  async function turnNotifications(on: boolean, device: WebDevice) {
    if (!on) {
      setNotificationsOff(true);
      setNotifyOn(false);
      setPushNote('');
      await stopWebPush(device.client);
      return;
    }
    const answer = await askNotifyPermission();
    if (answer !== 'granted') {
      setPushNote(
        answer === 'denied'
          ? "Notifications are blocked for this site in the browser's settings."
          : answer === 'unsupported'
            ? 'This browser cannot show notifications.'
            : '',
      );
      return;
    }
    setNotificationsOff(false);
    setNotifyOn(true);
    setPushNote((await startWebPush(pushDevice(device))) ?? '');
  }

  // A chat to open from outside the list: `/#/chat/<id>` at load, or a notification clicked.
  useEffect(() => {
    if (!ready) return;
    const openById = (chatId: string) => {
      const show = (chats: ChatInfo[] | undefined) => {
        const chat = chats?.find((x) => x.id === chatId);
        if (!chat) return false;
        setInfo(false);
        setOpen(chat);
        return true;
      };
      if (show(ready.conversations.chats)) return;
      const c = ready.client;
      const ask = () => void c.listChats().then(show, () => {});
      if (c.connected) ask();
      else {
        const stop = c.on('connected', () => {
          stop();
          ask();
        });
      }
    };
    const fromHash = chatOfHash(location.hash);
    if (fromHash) {
      history.replaceState(null, '', location.pathname);
      openById(fromHash);
    }
    const sw = 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;
    const onMessage = (e: MessageEvent) => {
      const chatId = openChatOf(e.data);
      if (chatId) openById(chatId);
    };
    sw?.addEventListener('message', onMessage);
    sw?.startMessages();
    return () => sw?.removeEventListener('message', onMessage);
  }, [ready]);

  useEffect(() => {
    const stop = new AbortController();
    let release: (() => void) | undefined;
    let device: WebDevice | undefined;
    // While the lock or the device is being opened, the opening code lets go of them itself.
    let opening = true;
    const finish = () => void (device?.close() ?? Promise.resolve()).finally(() => release?.());
    (async () => {
      release = await holdDeviceLock(() => setState({ kind: 'other-tab' }), stop.signal);
      if (stop.signal.aborted) return finish();
      setState({ kind: 'starting' });
      device = await openDevice(credentials);
      if (stop.signal.aborted) return finish();
      // From here the effect's cleanup closes the device.
      opening = false;
      setState({ kind: 'ready', device });
      await device.started;
    })().catch((err) => {
      if (opening) release?.();
      else if (!stop.signal.aborted) finish();
      opening = false;
      if (!stop.signal.aborted) setState({ kind: 'failed', message: describeError(err) });
    });
    return () => {
      stop.abort();
      if (!opening) finish();
    };
  }, [credentials]);

  async function signOut(device: WebDevice) {
    // Pushes to this browser end with the device; the subscription and the names go now.
    await stopWebPush(device.client);
    setNotificationsOff(false);
    await device.close();
    // The device's token is revoked on the node too; if that fails it is only forgotten here.
    await removeDevice(credentials, credentials.deviceId).catch(() => {});
    forgetDevice(credentials.deviceId);
    onSignedOut();
  }

  if (state.kind !== 'ready') {
    return (
      <main class="card" aria-labelledby="session-title">
        <h1 id="session-title">Parley</h1>
        <p role="status">
          {state.kind === 'other-tab'
            ? 'Parley is open in another tab. Close it to use Parley here.'
            : state.kind === 'starting'
              ? 'Opening…'
              : ''}
        </p>
        {state.kind === 'failed' && (
          <>
            <p role="alert" class="error">
              {state.message}
            </p>
            <button type="button" onClick={onSignedOut}>
              Register again
            </button>
          </>
        )}
      </main>
    );
  }
  const { device } = state;
  const openChat = (chat: ChatInfo | undefined) => {
    setInfo(false);
    setOpen(chat);
  };
  const screen =
    open && info ? (
      <GroupInfo
        chat={open}
        me={credentials.userId}
        device={device}
        onBack={() => setInfo(false)}
        onLeft={() => openChat(undefined)}
      />
    ) : open ? (
      <ChatView
        chat={open}
        me={credentials.userId}
        device={device}
        conversations={device.conversations}
        onBack={() => openChat(undefined)}
        onInfo={() => setInfo(true)}
      />
    ) : (
      <>
        <JoinByInvite device={device} onJoined={openChat} />
        <Chats
          device={device}
          notifications={{
            on: notifyOn,
            note: pushNote,
            turn: (on) => void turnNotifications(on, device),
          }}
          onOpen={openChat}
          onSignOut={() => void signOut(device)}
          onSignedOut={onSignedOut}
        />
      </>
    );
  return (
    <>
      {screen}
      <CallLayer device={device} chat={open} />
    </>
  );
}

/**
 * An invite link (`/#join=CODE`) opened while signed in: joins the group once connected and
 * opens it; the link leaves the address bar either way.
 */
function JoinByInvite(props: { device: WebDevice; onJoined: (chat: ChatInfo) => void }) {
  const [error, setError] = useState('');
  useEffect(() => {
    const raw = /^#join=([^&\s]{1,300})$/.exec(location.hash)?.[1];
    if (!raw) return;
    let code: string;
    try {
      code = decodeURIComponent(raw);
    } catch {
      return;
    }
    history.replaceState(null, '', location.pathname);
    const client = props.device.client;
    const join = () => client.joinByInvite(code).then(props.onJoined, (err) => setError(describeError(err)));
    if (client.connected) void join();
    else {
      const stop = client.on('connected', () => {
        stop();
        void join();
      });
    }
  }, [props.device]);
  return error ? (
    <p role="alert" class="error banner">
      {error}
    </p>
  ) : null;
}
