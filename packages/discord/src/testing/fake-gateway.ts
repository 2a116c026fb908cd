/**
 * The fake's gateway: Discord's WebSocket protocol (JSON frames `{op, d, s, t}`), enough for
 * discord.js to log in, stay connected, resume and reconnect as it does against Discord.
 *
 * - HELLO on connect; IDENTIFY checks the token (close 4004) and the privileged intents (close
 *   4014), then READY with `resume_gateway_url` at the fake and one GUILD_CREATE per server;
 * - heartbeats are acknowledged;
 * - every event goes to every session whose intents cover it, numbered per session and kept, so a
 *   RESUME replays what the client missed; a session that cannot resume gets op 9 (invalid session);
 * - a client closing with 1000/1001 ends its session, as on Discord; a dropped connection keeps it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { Intent, PRIVILEGED_INTENTS } from './fake-payloads.js';
import type { FakeEvent } from './fake-state.js';

interface Frame {
  op: number;
  d: unknown;
  s: number | null;
  t: string | null;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  /** Frames numbered for this session, for replay on RESUME. */
  log: Frame[];
  socket: WebSocket | undefined;
}

export interface FakeGatewayOptions {
  token: string;
  /** The READY payload's `user` and `application`. */
  ready(): { user: unknown; applicationId: string; guildIds: string[] };
  /** The GUILD_CREATE payloads, one per server. */
  guilds(): unknown[];
  resumeUrl(): string;
  heartbeatIntervalMs: number;
  /** Privileged intents enabled "in the Developer Portal"; others are refused with close code 4014. */
  grantedPrivilegedIntents: number;
  /** Frames kept per session for replay. */
  replayLimit: number;
}

/** Counters of what the gateway saw, for tests. */
export interface GatewayStats {
  connections: number;
  /** Heartbeats received (each acknowledged). */
  heartbeats: number;
  identifies: number;
  resumes: number;
  /** Sessions that cannot be resumed any more (invalid session answers). */
  invalidSessions: number;
}

export class FakeGateway {
  readonly stats: GatewayStats = { connections: 0, heartbeats: 0, identifies: 0, resumes: 0, invalidSessions: 0 };
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sessions = new Map<string, Session>();
  readonly #sockets = new Set<WebSocket>();
  readonly #options: FakeGatewayOptions;
  readonly #sessionListeners = new Set<() => void>();

  constructor(options: FakeGatewayOptions) {
    this.#options = options;
    this.#wss.on('connection', (socket) => this.#accept(socket));
  }

  /** Takes an HTTP upgrade on the gateway path. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#wss.emit('connection', ws, request));
  }

  /** Sends an event to every session allowed to see it (or keeps it for their resume). */
  dispatch(event: FakeEvent): void {
    for (const session of this.#sessions.values()) {
      if (event.intent !== 0 && (session.intents & event.intent) === 0) continue;
      this.#send(session, event.t, contentFor(event, session.intents));
    }
  }

  /** Closes every connection with `code` (4000: the client resumes; 1000: it identifies again). */
  disconnect(code = 4000, options: { invalidateSessions?: boolean } = {}): void {
    for (const session of this.#sessions.values()) {
      const socket = session.socket;
      // Detached at once: what happens from now on is kept for the resume.
      session.socket = undefined;
      socket?.close(code, 'disconnected by the fake');
    }
    if (options.invalidateSessions) this.invalidateSessions();
  }

  /** Forgets every session: a client's next RESUME gets op 9 and must IDENTIFY again. */
  invalidateSessions(): void {
    this.#sessions.clear();
  }

  /** Sends op 7 (Reconnect): the clients reconnect and resume. */
  requestReconnect(): void {
    for (const session of this.#sessions.values()) {
      if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify({ op: 7, d: null, s: null, t: null }));
    }
  }

  /** Sessions that are connected right now. */
  connectedSessions(): number {
    return [...this.#sessions.values()].filter((session) => session.socket?.readyState === WebSocket.OPEN).length;
  }

  /** Resolves at the next READY or RESUMED. */
  nextSession(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#sessionListeners.delete(done);
        resolve();
      };
      this.#sessionListeners.add(done);
    });
  }

  close(): void {
    for (const socket of this.#sockets) socket.terminate();
    this.#sockets.clear();
    this.#sessions.clear();
    this.#wss.close();
  }

  #accept(socket: WebSocket): void {
    this.stats.connections += 1;
    this.#sockets.add(socket);
    let session: Session | undefined;
    socket.on('close', (code) => {
      this.#sockets.delete(socket);
      if (!session || session.socket !== socket) return;
      session.socket = undefined;
      // A client that closes normally ends its session; a dropped connection may resume.
      if (code === 1000 || code === 1001) this.#sessions.delete(session.id);
    });
    socket.on('error', () => socket.terminate());
    socket.on('message', (raw) => {
      let frame: { op?: number; d?: any };
      try {
        frame = JSON.parse(String(raw));
      } catch {
        socket.close(4002, 'Error while decoding payload.');
        return;
      }
      switch (frame.op) {
        case 1:
          this.stats.heartbeats += 1;
          socket.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          break;
        case 2:
          session = this.#identify(socket, frame.d);
          break;
        case 6:
          session = this.#resume(socket, frame.d);
          break;
        default:
          // Presence (3), voice (4) and member requests (8) change nothing here.
          break;
      }
    });
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.#options.heartbeatIntervalMs }, s: null, t: null }));
  }

  #identify(socket: WebSocket, data: { token?: string; intents?: number } | undefined): Session | undefined {
    this.stats.identifies += 1;
    if (data?.token !== this.#options.token) {
      socket.close(4004, 'Authentication failed.');
      return undefined;
    }
    const intents = Number(data.intents ?? 0);
    if ((intents & PRIVILEGED_INTENTS & ~this.#options.grantedPrivilegedIntents) !== 0) {
      socket.close(4014, 'Disallowed intent(s).');
      return undefined;
    }
    const session: Session = { id: randomBytes(16).toString('hex'), intents, seq: 0, log: [], socket };
    this.#sessions.set(session.id, session);
    const ready = this.#options.ready();
    this.#send(session, 'READY', {
      v: 10,
      user: ready.user,
      guilds: ready.guildIds.map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.#options.resumeUrl(),
      shard: [0, 1],
      application: { id: ready.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      geo_ordered_rtc_regions: [],
      guild_join_requests: [],
      user_settings: {},
      _trace: ['fake-discord'],
    });
    if (intents & Intent.Guilds) for (const guild of this.#options.guilds()) this.#send(session, 'GUILD_CREATE', guild);
    this.#notifySession();
    return session;
  }

  #resume(socket: WebSocket, data: { token?: string; session_id?: string; seq?: number } | undefined): Session | undefined {
    const session = data?.session_id ? this.#sessions.get(data.session_id) : undefined;
    if (!session || data?.token !== this.#options.token) {
      this.stats.invalidSessions += 1;
      socket.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
      return undefined;
    }
    this.stats.resumes += 1;
    const previous = session.socket;
    session.socket = socket;
    if (previous && previous !== socket) previous.terminate();
    const from = Number(data?.seq ?? 0);
    for (const frame of session.log) if (frame.s !== null && frame.s > from) socket.send(JSON.stringify(frame));
    this.#send(session, 'RESUMED', { _trace: ['fake-discord'] });
    this.#notifySession();
    return session;
  }

  #send(session: Session, t: string, d: unknown): void {
    const frame: Frame = { op: 0, t, d, s: ++session.seq };
    session.log.push(frame);
    if (session.log.length > this.#options.replayLimit) session.log.shift();
    if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify(frame));
  }

  #notifySession(): void {
    for (const listener of [...this.#sessionListeners]) listener();
  }
}

/**
 * Without the Message Content intent Discord sends server messages with empty content, files,
 * embeds and components, unless the bot wrote them or is mentioned in them.
 */
function contentFor(event: FakeEvent, intents: number): unknown {
  const scope = event.guildContent;
  if (!scope || intents & Intent.MessageContent || scope.keepsContent) return event.d;
  return { ...(event.d as object), content: '', attachments: [], embeds: [], components: [] };
}
