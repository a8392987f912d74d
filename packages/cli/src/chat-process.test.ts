/**
 * Two real `parley chat` processes (stdin/stdout pipes) against a node on loopback: alice's
 * message shows ✓ while bob is away, then ✓✓ once his chat connects, then "read" once he
 * opens the chat.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestNode } from './testing/node.js';
import { saveTestProfile, useParleyProcesses } from './testing/processes.js';

// First, so the chat processes end before the node stops.
const { chat: chatOf } = useParleyProcesses();
const t = useTestNode('parley-chat-process-');
const chat = (name: string) => chatOf(t, name);

const A = '+14155555001';
const B = '+14155555002';

test('two chat processes: ✓ while away, ✓✓ when delivered, read when opened', async () => {
  await saveTestProfile(t, 'alice', A);
  await saveTestProfile(t, 'bob', B);
  const alice = chat('alice');
  await alice.see('Connected as');
  alice.type(`/new ${B}`);
  await alice.see(`Opened ${B}`);
  alice.type('hello bob');
  await alice.see(`[${B}] #2 you: hello bob ✓\n`);

  const bob = chat('bob');
  // Bob has not discovered alice's number yet: she shows by user id.
  await bob.see(/#2 \S+: hello bob/, "bob's copy");
  await alice.see(`[${B}]   ✓✓ message 2`);
  bob.type(`/new ${A}`);
  await alice.see(`[${B}]   read message 2`);
  await bob.quit();
  assert.equal(await alice.quit(), 0);
});
