/**
 * Counts sockets that have not authenticated yet, per client address and in all, so one
 * client (or a crowd) cannot hold the server's sockets open without ever signing in
 * (`GATEHOUSE_WS_ANON_PER_CLIENT`, `GATEHOUSE_WS_ANON_MAX`).
 */
export class AnonymousSocketCap {
  readonly #byClient = new Map<string, number>();
  #total = 0;

  constructor(private readonly perClient: number, private readonly max: number) {}

  /** Counts one more for `client`, or false (nothing counted) when a cap is reached. */
  admit(client: string): boolean {
    const n = this.#byClient.get(client) ?? 0;
    if (n >= this.perClient || this.#total >= this.max) return false;
    this.#byClient.set(client, n + 1);
    this.#total++;
    return true;
  }

  /** The socket authenticated or closed. */
  release(client: string): void {
    const n = this.#byClient.get(client);
    if (n === undefined) return;
    if (n <= 1) this.#byClient.delete(client);
    else this.#byClient.set(client, n - 1);
    this.#total--;
  }
}
