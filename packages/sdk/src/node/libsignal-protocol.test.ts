import { after } from 'node:test';
import { e2eProtocolContract } from '../crypto/e2e-protocol.contract.js';
import { libsignalBackend } from './libsignal-fixtures.js';

const backend = await libsignalBackend();
after(() => backend.remove());

e2eProtocolContract('LibsignalProtocol', backend);
