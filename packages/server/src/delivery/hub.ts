/**
 * Local registry of connected devices and the fan-out of committed messages to them.
 * A frame shared by all recipients (one payload for every device) is encoded once per
 * encoding; per-device payloads are encoded per device.
 */
import type { Encoding, FrameInit } from '@parley/protocol';
import type { Directory } from '../chat/directory.js';
import type { DeviceId, StoredMessage, UserId } from '../ports/types.js';
import type { RemoteRouter } from './cluster.js';
import type { DeliverySession } from './session.js';

export interface Connection {
  readonly deviceId: DeviceId;
  /** When the socket was accepted (ms since the epoch). */
  readonly openedAt: number;
  readonly userId: UserId;
  readonly encoding: Encoding;
  readonly session: DeliverySession;
  /** Bytes queued for this socket and not yet written to the kernel. */
  readonly bufferedAmount: number;
  /** Sends a push frame (id 0) on this connection. Never throws: a failure closes this connection only. */
  push(body: FrameInit['body']): void;
  /** Closes the socket with a close code (once; later calls do nothing). */
  close(code: number, reason: string): void;
}

export type FrameEncoder = (
  messages: readonly StoredMessage[],
  backlog: boolean,
  encoding: Encoding,
) => Uint8Array | string;

export class Hub {
  private readonly conns = new Map<DeviceId, Connection>();
  /** With several nodes: reaches devices connected elsewhere. */
  remote: RemoteRouter | undefined;

  constructor(
    private readonly directory: Directory,
    private readonly encode: FrameEncoder,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.conns.size;
  }

  get(deviceId: DeviceId): Connection | undefined {
    return this.conns.get(deviceId);
  }

  all(): IterableIterator<Connection> {
    return this.conns.values();
  }

  /** Registers `conn`; returns the connection of the same device it replaces, if any. */
  register(conn: Connection): Connection | undefined {
    const old = this.conns.get(conn.deviceId);
    this.conns.set(conn.deviceId, conn);
    this.remote?.connected(conn.deviceId, conn.userId);
    return old;
  }

  unregister(conn: Connection): void {
    if (this.conns.get(conn.deviceId) !== conn) return;
    this.conns.delete(conn.deviceId);
    this.remote?.disconnected(conn.deviceId, conn.userId);
  }

  /** Pushes a frame body to each device, here or (with several nodes) where it is connected. */
  pushToDevices(deviceIds: readonly DeviceId[], body: FrameInit['body']): void {
    const elsewhere: DeviceId[] = [];
    for (const d of deviceIds) {
      const conn = this.conns.get(d);
      if (conn) conn.push(body);
      else elsewhere.push(d);
    }
    this.remote?.push(elsewhere, body);
  }

  /**
   * Offers a committed message to every connected device of the chat's members (plus
   * `extraUsers`, e.g. a user just removed, who still gets the removal update).
   */
  async fanOut(
    message: StoredMessage,
    devicePayloads: ReadonlyMap<DeviceId, Uint8Array> | undefined,
    extraUsers: readonly UserId[] = [],
  ): Promise<void> {
    try {
      await this.offerToMembers(message, devicePayloads, extraUsers);
    } catch (err) {
      // Live delivery is an optimisation: the message is stored, devices read it on their next drain.
      this.onError(err);
    }
  }

  private async offerToMembers(
    message: StoredMessage,
    devicePayloads: ReadonlyMap<DeviceId, Uint8Array> | undefined,
    extraUsers: readonly UserId[],
  ): Promise<void> {
    if (this.conns.size === 0 && !this.remote) return;
    const members = await this.directory.members(message.chatId);
    // Member ids are distinct: a set only when extra users may repeat one.
    let users: Iterable<UserId> = members?.users ?? [];
    if (extraUsers.length > 0) {
      const all = new Set<UserId>(users);
      for (const u of extraUsers) all.add(u);
      users = all;
    }
    const shared = devicePayloads === undefined ? new SharedFrame(message, this.encode) : undefined;
    const elsewhere: DeviceId[] = [];
    for (const u of users) {
      const devices = this.directory.cachedDevicesOf(u) ?? (await this.directory.devicesOf(u));
      for (const d of devices) {
        const conn = this.conns.get(d);
        if (!conn) {
          if (this.remote && d !== message.senderDeviceId) elsewhere.push(d);
          continue;
        }
        if (shared) {
          conn.session.offerLive(message, () => shared.get(conn.encoding));
        } else {
          conn.session.offerLive({ ...message, body: devicePayloads!.get(d) }, undefined);
        }
      }
    }
    this.remote?.wake(message, elsewhere);
  }

  /** Closes the connections of these devices (revoked credentials). */
  closeDevices(deviceIds: readonly DeviceId[], code: number, reason: string): void {
    for (const d of deviceIds) this.conns.get(d)?.close(code, reason);
  }
}

class SharedFrame {
  private proto: Uint8Array | string | undefined;
  private json: Uint8Array | string | undefined;

  constructor(
    private readonly message: StoredMessage,
    private readonly encode: FrameEncoder,
  ) {}

  get(encoding: Encoding): Uint8Array | string {
    if (encoding === 'proto') {
      this.proto ??= this.encode([this.message], false, 'proto');
      return this.proto;
    }
    this.json ??= this.encode([this.message], false, 'json');
    return this.json;
  }
}
