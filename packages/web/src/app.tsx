/** The app's screens: registration until this browser has a device, then the chat list. */
import type { Credentials } from '@parley/sdk/browser';
import { useState } from 'preact/hooks';
import { Chats } from './chats.js';
import { forgetCredentials, loadCredentials, saveCredentials } from './credentials.js';
import { Register } from './register.js';

export function App() {
  const [credentials, setCredentials] = useState<Credentials | undefined>(loadCredentials);
  if (!credentials) {
    return (
      <Register
        onRegistered={(c) => {
          saveCredentials(c);
          setCredentials(c);
        }}
      />
    );
  }
  return (
    <Chats
      credentials={credentials}
      onSignedOut={() => {
        forgetCredentials();
        setCredentials(undefined);
      }}
    />
  );
}
