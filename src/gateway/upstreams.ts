import type { Logger } from "../observability/logger.ts";
import { ModelNotFoundError, NoUpstreamError } from "./gateway-errors.ts";

/** One OpenAI-compatible upstream: `OPENAI_API_BASE_URLS[index]` with `OPENAI_API_KEYS[index]`. */
export interface Upstream {
  index: number;
  /** Without a trailing slash, e.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** Empty when none was given (no Authorization header is sent). */
  key: string;
}

/** Pairs base URLs with keys by position, as Open WebUI does (missing keys are empty). */
export function upstreamsFrom(openai: { baseUrls: readonly string[]; keys: readonly string[] }): Upstream[] {
  return openai.baseUrls.map((u, index) => ({ index, baseUrl: u.replace(/\/+$/, ""), key: openai.keys[index] ?? "" }));
}

/** Headers for a request to `upstream` (never the client's credentials). */
export function upstreamHeaders(upstream: Upstream, extra: Record<string, string> = {}): Headers {
  const h = new Headers(extra);
  if (upstream.key !== "") h.set("authorization", `Bearer ${upstream.key}`);
  return h;
}

/** A model as one upstream's `/models` lists it. */
export interface ModelEntry {
  id: string;
  upstream: number;
  /** The upstream's model object, passed through to clients. */
  raw: Record<string, unknown>;
}

export interface ModelDirectoryOptions {
  /** How long a model list is fresh. */
  ttlMs: number;
  /** Timeout of one `/models` call. */
  timeoutMs: number;
  /** Least time between refreshes forced by an unknown model id. */
  minRefreshMs: number;
  log: Logger;
}

/**
 * The model → upstream map, built from each upstream's `/models` and cached. A stale map is
 * served while one refresh runs in the background; an upstream whose `/models` fails keeps
 * its last good list. With a single upstream every model goes to it, listed or not.
 */
export class ModelDirectory {
  readonly #lists: Array<ModelEntry[] | null>;
  #byId = new Map<string, ModelEntry>();
  #loadedAt = -Infinity;
  #refreshing: Promise<void> | null = null;

  constructor(readonly upstreams: readonly Upstream[], private readonly opts: ModelDirectoryOptions) {
    this.#lists = upstreams.map(() => null);
  }

  /** Every listed model, first upstream first; one model id appears once (the first upstream wins). */
  async list(): Promise<ModelEntry[]> {
    if (this.upstreams.length === 0) throw new NoUpstreamError();
    const age = performance.now() - this.#loadedAt;
    if (age > this.opts.ttlMs) {
      const refresh = this.refresh();
      if (this.#loadedAt === -Infinity) await refresh;
    }
    return [...this.#byId.values()];
  }

  /** The upstream serving `model`. */
  async upstreamFor(model: string): Promise<Upstream> {
    if (this.upstreams.length === 0) throw new NoUpstreamError();
    if (this.upstreams.length === 1) return this.upstreams[0]!;
    await this.list();
    let entry = this.#byId.get(model);
    if (!entry && performance.now() - this.#loadedAt > this.opts.minRefreshMs) {
      await this.refresh();
      entry = this.#byId.get(model);
    }
    if (!entry) throw new ModelNotFoundError(model);
    return this.upstreams[entry.upstream]!;
  }

  /** Reloads every upstream's list (one refresh at a time; callers share it). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    const lists = await Promise.all(this.upstreams.map((u) => this.#fetchList(u)));
    lists.forEach((l, i) => {
      if (l !== null) this.#lists[i] = l;
    });
    const byId = new Map<string, ModelEntry>();
    for (const l of this.#lists) for (const m of l ?? []) if (!byId.has(m.id)) byId.set(m.id, m);
    this.#byId = byId;
    this.#loadedAt = performance.now();
  }

  async #fetchList(u: Upstream): Promise<ModelEntry[] | null> {
    try {
      const res = await fetch(`${u.baseUrl}/models`, {
        headers: upstreamHeaders(u, { accept: "application/json" }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        this.opts.log.warn({ upstream: u.index, status: res.status }, "upstream /models answered an error; keeping its last list");
        return null;
      }
      const body = (await res.json()) as unknown;
      const items = Array.isArray(body) ? body : (body as { data?: unknown })?.data;
      if (!Array.isArray(items)) throw new Error("no data array");
      const out: ModelEntry[] = [];
      for (const item of items) {
        if (typeof item === "object" && item !== null && typeof (item as { id?: unknown }).id === "string") {
          out.push({ id: (item as { id: string }).id, upstream: u.index, raw: item as Record<string, unknown> });
        }
      }
      return out;
    } catch (e) {
      this.opts.log.warn({ upstream: u.index, err: (e as Error).message }, "upstream /models failed; keeping its last list");
      return null;
    }
  }
}
