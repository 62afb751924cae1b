/**
 * The benchmark's baseline: the same Gatehouse, except that a chat request checks one database
 * connection out before authentication and holds it until its answer has been streamed to the
 * end — what Open WebUI before 0.7.2 did (a request-scoped SQLAlchemy session around a 30–60 s
 * LLM call). Same config, pool, metrics and routes; only the chat routes are wrapped.
 *
 *   bun bench/baseline-hold.ts        (configured by the environment, like src/main.ts)
 */
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { createServices } from "../src/services.ts";
import { assembleInstance } from "../src/instance.ts";
import { serveBun } from "../src/runtime/bun.ts";
import { exitOnSignals } from "../src/runtime/signals.ts";
import { withDbAccounting, type FetchHandler } from "../src/http/request-accounting.ts";
import { withRequestLimits } from "../src/http/request-limits.ts";
import { detail } from "../src/http/error-handler.ts";
import { currentRequestScope } from "../src/observability/request-scope.ts";
import { ServiceError } from "../src/errors.ts";
import { CheckoutTimeoutError } from "../src/db/errors.ts";
import type { StrictPool } from "../src/db/pool.ts";
import { CHAT_ROUTES } from "../src/http/gateway-routes.ts";

const HELD_PATHS = new Set<string>(CHAT_ROUTES);

/**
 * Wraps `handle` so chat requests run inside one `pool.run` that lasts until the response body
 * has been fully sent (or the client went away).
 */
export function holdingConnection(pool: StrictPool, handle: FetchHandler): FetchHandler {
  return (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== "POST" || !HELD_PATHS.has(path)) return handle(request);
    const scope = currentRequestScope();
    if (scope) scope.route = path;
    return new Promise<Response>((resolve) => {
      pool
        .run("baseline.hold", async (conn) => {
          // The session's first query, as the ORM's user lookup would make on it.
          await conn`select 1`;
          const res = await handle(request);
          if (!res.body) return resolve(res);
          const reader = res.body.getReader();
          let release!: () => void;
          const released = new Promise<void>((r) => (release = r));
          const body = new ReadableStream<Uint8Array>(
            {
              async pull(controller) {
                try {
                  const r = await reader.read();
                  if (r.done) {
                    controller.close();
                    release();
                  } else controller.enqueue(r.value);
                } catch (e) {
                  controller.error(e);
                  release();
                }
              },
              cancel(reason) {
                reader.cancel(reason).catch(() => {});
                release();
              },
            },
            { highWaterMark: 0 },
          );
          resolve(new Response(body, { status: res.status, headers: res.headers }));
          await released;
        })
        .catch((e: unknown) => {
          // The pool adds only successful waits to the request's scope; a request that waited out
          // DATABASE_POOL_TIMEOUT waited too, and its Server-Timing / per-request histogram should say so.
          if (e instanceof CheckoutTimeoutError && scope) scope.waitSeconds += e.waitedMs / 1000;
          if (e instanceof ServiceError) {
            const headers: Array<[string, string]> = [...e.headers];
            if (e.retryAfterSeconds !== undefined) headers.push(["retry-after", String(e.retryAfterSeconds)]);
            resolve(detail(e.status, e.message, headers));
          } else resolve(detail(500, "Internal Server Error"));
        });
    });
  };
}

if (import.meta.main) {
  const config = loadConfig(process.env);
  const log = createLogger(config.server.logLevel);
  const services = await createServices(config, log);
  const instance = await assembleInstance(services);
  const { app } = instance.gatehouse;
  const limits = { maxBodyBytes: config.server.maxBodyBytes, maxHeaderBytes: config.server.maxHeaderBytes };
  const fetch = withRequestLimits(withDbAccounting(holdingConnection(services.pool, (req) => app.handle(req)), services.dbMetrics), limits);
  const server = serveBun(fetch, { host: config.server.host, port: config.server.port, maxBodyBytes: config.server.maxBodyBytes });
  log.info({ port: server.port }, `baseline (connection held per chat request) listening on http://${config.server.host}:${server.port}`);
  exitOnSignals(async () => {
    await services.lifecycle.drain();
    await server.stop(false);
    await instance.stop();
    await services.close();
  }, log, config.server.shutdownTimeoutMs);
}
