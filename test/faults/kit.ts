/**
 * What every fault scenario needs: a bounded load loop that records each request's start,
 * duration and status, and the per-scenario report the issue asks for (requests sent, status
 * counts, the longest request, recovery time after the fault ended).
 */
import { expect } from "bun:test";
import { postJson } from "../helpers/cookie-jar.ts";
import type { ServerProcess } from "../helpers/server-process.ts";

/** One request of a load loop. `status` 0: no HTTP answer (refused, reset, or cut off at the client's cap). */
export interface Sample {
  /** ms since the load started. */
  start: number;
  ms: number;
  status: number;
  retryAfter: string | null;
  /** The error body's `detail` (non-200 answers only). */
  detail?: string;
}

/** Longest any single load request may take before the client gives up on it (then status 0). */
const CLIENT_CAP_MS = 15_000;

/** `workers` loops sending `send()` back to back until stopped (at most `maxRequests` in all). */
export class Load {
  readonly samples: Sample[] = [];
  readonly t0 = performance.now();
  #stopped = false;
  readonly #loops: Promise<void>[];

  constructor(send: (signal: AbortSignal, i: number) => Promise<Response>, workers: number, opts: { pauseMs?: number; maxRequests?: number } = {}) {
    const max = opts.maxRequests ?? 20_000;
    let n = 0;
    this.#loops = Array.from({ length: workers }, async () => {
      while (!this.#stopped && n < max) {
        const i = n++;
        const start = performance.now();
        let status = 0;
        let retryAfter: string | null = null;
        let detail: string | undefined;
        try {
          const r = await send(AbortSignal.timeout(CLIENT_CAP_MS), i);
          const body = await r.text();
          status = r.status;
          retryAfter = r.headers.get("retry-after");
          if (status !== 200) detail = body.slice(0, 200);
        } catch (e) {
          status = 0;
          detail = String(e).slice(0, 200);
        }
        this.samples.push({ start: start - this.t0, ms: performance.now() - start, status, retryAfter, detail });
        if (opts.pauseMs) await Bun.sleep(opts.pauseMs);
      }
    });
  }

  /** ms since the load started: a mark for windows and recovery. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** Waits for the loops to send all `maxRequests` (without stopping them early). */
  async finished(): Promise<Sample[]> {
    await Promise.all(this.#loops);
    return this.samples;
  }

  async stop(): Promise<Sample[]> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    return this.samples;
  }
}

/** The numbers a scenario reports. */
export interface Summary {
  sent: number;
  statuses: Record<string, number>;
  longestMs: number;
  p99Ms: number;
  /** ms from `faultEnd` to the end of the last non-200 answer (0: none after it). */
  recoveryMs: number | null;
}

/** Summarises `samples`; `faultEnd` (load ms) gives the recovery time. */
export function summarize(samples: readonly Sample[], faultEnd?: number): Summary {
  const statuses: Record<string, number> = {};
  let longestMs = 0;
  for (const s of samples) {
    statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    longestMs = Math.max(longestMs, s.ms);
  }
  let recoveryMs: number | null = null;
  if (faultEnd !== undefined) {
    const lastBad = samples.filter((s) => s.status !== 200).reduce((m, s) => Math.max(m, s.start + s.ms), -Infinity);
    recoveryMs = Math.max(0, lastBad - faultEnd);
  }
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const p99Ms = sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!);
  return { sent: samples.length, statuses, longestMs: Math.round(longestMs), p99Ms, recoveryMs: recoveryMs === null ? null : Math.round(recoveryMs) };
}

/** Prints one report line (collected for the issue note). */
export function report(scenario: string, s: Summary): void {
  const rec = s.recoveryMs === null ? "" : `, recovery after fault ${s.recoveryMs} ms`;
  console.log(`[fault] ${scenario}: ${s.sent} requests, statuses ${JSON.stringify(s.statuses)}, p99 ${s.p99Ms} ms, longest ${s.longestMs} ms${rec}`);
}

/** Samples that started within [from, to) (load ms). */
export function window(samples: readonly Sample[], from: number, to = Infinity): Sample[] {
  return samples.filter((s) => s.start >= from && s.start < to);
}

/** The assertions every scenario shares: no 500 (any 5xx but a 503 with Retry-After), every request answered. */
export function expectNoServerErrors(samples: readonly Sample[]): void {
  const unanswered = samples.filter((s) => s.status === 0).length;
  const errors = samples.filter((s) => s.status >= 500 && s.status !== 503).map((s) => s.status);
  const bare503 = samples.filter((s) => s.status === 503 && !s.retryAfter).length;
  expect({ unanswered, errors, bare503 }).toEqual({ unanswered: 0, errors: [], bare503: 0 });
}

/** Signs a user up on `server` (the first one becomes admin) and returns its token. */
export async function signUp(server: ServerProcess, email: string, password = "pw-fault"): Promise<string> {
  const r = await fetch(`${server.baseUrl}/api/v1/auths/signup`, postJson({ name: email, email, password }));
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

/** GET /api/v1/auths/ (the signed-in user) with `token`. */
export function me(server: ServerProcess, token: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.baseUrl}/api/v1/auths/`, { headers: { authorization: `Bearer ${token}` }, signal });
}
