/**
 * The soak's devices and chats, seeded into the node's data dir before it first starts.
 * Devices are split among the client processes, and every chat's members live in one
 * process, so each process can check its own chats end to end (sender and recipients).
 * Each device is in about two 1:1 chats and, on average, one group of 3 to 8.
 */
import { Seeder } from '../seed.js';

export interface SoakDevice {
  index: number;
  userId: string;
  deviceId: string;
  token: string;
}

export interface SoakChat {
  id: string;
  kind: 'direct' | 'group';
  /** Device indexes of the members. */
  members: number[];
}

export interface WorkerPlan {
  devices: SoakDevice[];
  chats: SoakChat[];
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The chats of one process's devices (indexes `first`..`first + n - 1`), without ids yet. */
function layout(first: number, n: number, random: () => number): Array<Omit<SoakChat, 'id'>> {
  const indexes = Array.from({ length: n }, (_, i) => first + i);
  const chats: Array<Omit<SoakChat, 'id'>> = [];
  const pairs = new Set<string>();
  for (let round = 0; round < 2; round++) {
    const order = shuffled(indexes, random);
    for (let i = 0; i + 1 < order.length; i += 2) {
      const a = Math.min(order[i]!, order[i + 1]!);
      const b = Math.max(order[i]!, order[i + 1]!);
      if (pairs.has(`${a}:${b}`)) continue; // one 1:1 chat per pair of users
      pairs.add(`${a}:${b}`);
      chats.push({ kind: 'direct', members: [a, b] });
    }
  }
  for (let g = 0; g < Math.floor(n / 5); g++) {
    const size = 3 + Math.floor(random() * 6);
    chats.push({ kind: 'group', members: shuffled(indexes, random).slice(0, Math.min(size, n)) });
  }
  return chats;
}

/** Seeds `devices` users (one device each) and their chats; returns each process's share. */
export async function seedFleet(
  dataDir: string,
  devices: number,
  workers: number,
  random: () => number,
): Promise<WorkerPlan[]> {
  const seeder = Seeder.open(dataDir);
  try {
    const users = await seeder.users(devices);
    const plans: WorkerPlan[] = [];
    let first = 0;
    for (let w = 0; w < workers; w++) {
      const n = Math.floor(devices / workers) + (w < devices % workers ? 1 : 0);
      const chats: SoakChat[] = [];
      for (const c of layout(first, n, random)) {
        const id = await seeder.chat(
          c.kind,
          c.members.map((i) => users[i]!),
        );
        chats.push({ id, ...c });
      }
      plans.push({ devices: users.slice(first, first + n), chats });
      first += n;
    }
    return plans;
  } finally {
    await seeder.close();
  }
}
