/**
 * Registration: a phone number, then the code the node sent by SMS (in dev mode the node's log
 * and <data-dir>/sms-codes.log show it); or, to use an existing account, the one-time link
 * code its primary device shows (`parley link`). The answer is this browser's device
 * credentials (a linked device is not the primary).
 */
import { type Credentials, linkDevice, requestCode, verifyCode } from '@parley/sdk/browser';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './errors.js';
import { markInteractive } from './interactive.js';
import { PhoneInput } from './phone-input.js';

/** The card both forms sit in, with the line that reads out errors. */
function RegisterCard({ error, children }: { error: string; children: ComponentChildren }) {
  return (
    <main class="card" aria-labelledby="register-title">
      <h1 id="register-title">Parley</h1>
      {children}
      <p role="alert" class="error">
        {error}
      </p>
    </main>
  );
}

export function Register({ onRegistered }: { onRegistered: (c: Credentials) => void }) {
  const [phone, setPhone] = useState('');
  const [sentTo, setSentTo] = useState<string | undefined>();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [linking, setLinking] = useState(false);
  const [linkCode, setLinkCode] = useState('');
  const codeInput = useRef<HTMLInputElement>(null);
  const server = location.origin;

  useEffect(markInteractive, []);
  useEffect(() => {
    if (sentTo) codeInput.current?.focus();
  }, [sentTo]);

  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError('');
    try {
      await work();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const sendCode = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const r = await requestCode(server, phone.trim());
      setSentTo(r.phone);
      setCode('');
    });
  };

  const verify = (e: Event) => {
    e.preventDefault();
    if (!sentTo) return;
    void run(async () => {
      onRegistered(await verifyCode(server, { phone: sentTo, code: code.trim(), deviceName: 'Web browser' }));
    });
  };

  const link = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      onRegistered(await linkDevice(server, { code: linkCode.trim(), deviceName: 'Web browser' }));
    });
  };

  if (linking)
    return (
      <RegisterCard error={error}>
        <form onSubmit={link} aria-describedby="link-help">
          <p id="link-help" class="help">
            On your phone or computer that has the account, make a link code (the command line:{' '}
            <code>parley link</code>) and type it here. This browser becomes another device of that account.
          </p>
          <label for="link-code">Link code</label>
          <input
            id="link-code"
            name="link-code"
            type="text"
            autocomplete="off"
            required
            value={linkCode}
            onInput={(e) => setLinkCode(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Linking…' : 'Link this browser'}
          </button>
          <button type="button" class="link" disabled={busy} onClick={() => setLinking(false)}>
            Register a phone number instead
          </button>
        </form>
      </RegisterCard>
    );

  return (
    <RegisterCard error={error}>
      {!sentTo ? (
        <form onSubmit={sendCode} aria-describedby="phone-help">
          <label for="phone">Phone number</label>
          <PhoneInput id="phone" value={phone} onChange={setPhone} autocomplete="tel" />
          <p id="phone-help" class="help">
            With the country code, like +44 20 7946 0958. We send a code by SMS.
          </p>
          <button type="submit" disabled={busy}>
            {busy ? 'Sending…' : 'Send code'}
          </button>
          <button
            type="button"
            class="link"
            disabled={busy}
            onClick={() => {
              setError('');
              setLinking(true);
            }}
          >
            Link to an account I already have
          </button>
        </form>
      ) : (
        <form onSubmit={verify} aria-describedby="code-help">
          <p id="code-help" class="help">
            We sent a code to <strong>{sentTo}</strong>. On a node in dev mode, its log shows the code.
          </p>
          <label for="code">Code</label>
          <input
            id="code"
            name="code"
            ref={codeInput}
            type="text"
            autocomplete="one-time-code"
            inputmode="numeric"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Register'}
          </button>
          <button type="button" class="link" disabled={busy} onClick={() => setSentTo(undefined)}>
            Use another number
          </button>
        </form>
      )}
    </RegisterCard>
  );
}
