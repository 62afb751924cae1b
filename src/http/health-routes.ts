import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import { TimeoutError, withTimeout } from "../with-timeout.ts";

/** How long /readyz waits for one dependency before calling it failed. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * `/health` (Open WebUI's, process up), `/health/db` (Postgres answers), `/livez` (touches
 * nothing, for liveness probes) and `/readyz` (Postgres and the store answer and the
 * process is not draining; 503 with per-check results otherwise).
 */
export function healthRoutes(s: Pick<Services, "pool" | "store" | "lifecycle">) {
  const checkDb = () => s.pool.run("health.db", async (c) => void (await c`select 1`));
  return new Elysia({ name: "gatehouse.health" })
    .get("/health", () => ({ status: true }))
    .get("/livez", () => ({ status: true }))
    .get("/health/db", async ({ set }) => {
      const r = await check(checkDb);
      if (r !== "ok") set.status = 503;
      return r === "ok" ? { status: true } : { status: false, detail: r };
    })
    .get("/readyz", async ({ set }) => {
      const [postgres, store] = await Promise.all([check(checkDb), check(() => s.store.ping())]);
      const checks: Record<string, string> = { postgres, store };
      if (s.lifecycle.draining) checks["shutdown"] = "draining";
      const ready = postgres === "ok" && store === "ok" && !s.lifecycle.draining;
      if (!ready) set.status = 503;
      return { status: ready, checks };
    });
}

/** "ok", or a short reason that names no secret. */
async function check(fn: () => Promise<void>): Promise<string> {
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS, "health check");
    return "ok";
  } catch (e) {
    if (e instanceof TimeoutError) return "failed (timed out)";
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? `failed (${code})` : "failed (error)";
  }
}
