/** `parley send --file` killed halfway resumes when run again, with media on the node's disk. */
import { test } from 'node:test';
import { useTestNode } from './testing/node.js';
import { useParleyProcesses } from './testing/processes.js';
import { killedUploadResumes } from './testing/send-file-resume.js';

const run = useParleyProcesses();
const t = useTestNode('parley-send-resume-');

test('parley send --file killed halfway resumes from the server offset when run again', () =>
  // Small chunks, so the kill lands while the upload is under way.
  killedUploadResumes(t, run, { phones: ['+14155558301', '+14155558302'], chunkBytes: 128 * 1024 }));
