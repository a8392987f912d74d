/** The app's screens: registration until this browser has a device, then the signed-in session. */
import type { Credentials } from '@parley/sdk/browser';
import { useState } from 'preact/hooks';
import { forgetCredentials, loadCredentials, saveCredentials } from './credentials.js';
import { Register } from './register.js';
import { Session } from './session.js';

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
    <Session
      credentials={credentials}
      onSignedOut={() => {
        forgetCredentials();
        setCredentials(undefined);
      }}
    />
  );
}
