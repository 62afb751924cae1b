/** A frame the server sent. */
export interface ServerFrame {
  event: string;
  id?: number;
  data: unknown;
}

/**
 * A real WebSocket client (the runtime's global `WebSocket`) with the bookkeeping tests
 * need: every frame received, a promise of the close, and request/ack pairing by `id`.
 */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #nextId = 1;
  #waiters: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(String(e.data)) as ServerFrame;
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  /** Opens a socket (Bun's client accepts `headers`); resolves once open, rejects if it fails to open. */
  static open(url: string, init: { headers?: Record<string, string> } = {}): Promise<TestSocket> {
    const ws = new WebSocket(url, init as unknown as string[]);
    const s = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(s), { once: true });
      ws.addEventListener("error", () => reject(new Error(`WebSocket to ${url.replace(/token=[^&]+/, "token=…")} failed to open`)), { once: true });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendRaw(data: string | Uint8Array<ArrayBuffer>): void {
    this.ws.send(data);
  }

  /** Sends `{event, data, id}` and resolves with the `ack` or `error` frame carrying that id. */
  request(event: string, data: unknown, timeoutMs = 5000): Promise<ServerFrame> {
    const id = this.#nextId++;
    const answer = this.next((f) => f.id === id && (f.event === "ack" || f.event === "error"), timeoutMs);
    this.ws.send(JSON.stringify({ event, data, id }));
    return answer;
  }

  /** `user-join` with a token; resolves with the ack or error frame. */
  join(token: string): Promise<ServerFrame> {
    return this.request("user-join", { auth: { token } });
  }

  /** The first frame (already received or still to come) matching `match`. */
  next(match: (f: ServerFrame) => boolean, timeoutMs = 5000): Promise<ServerFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  /** The first frame of `event`. */
  event(event: string, timeoutMs = 5000): Promise<ServerFrame> {
    return this.next((f) => f.event === event, timeoutMs);
  }

  /** Resolves with the close, or rejects when the socket is still open after `ms`. */
  closedWithin(ms: number): Promise<{ code: number; reason: string }> {
    return Promise.race([
      this.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms)),
    ]);
  }

  close(): void {
    this.ws.close();
  }
}

/** The `ws://` URL of a server's hub, optionally with `?token=`. */
export function wsUrl(baseUrl: string, token?: string): string {
  const u = `${baseUrl.replace(/^http/, "ws")}/ws`;
  return token ? `${u}?token=${encodeURIComponent(token)}` : u;
}
