// Gatehouse's real boot plus two identical tiny JSON routes, one open and one behind the
// full authenticated path, so a load run can compare them on the same connections.
import { Elysia } from "elysia";
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { startGatehouse } from "../src/server.ts";
import { exitOnSignals } from "../src/runtime/signals.ts";
import type { AuthModule } from "../src/auth/auth-module.ts";

const config = loadConfig(process.env);
const log = createLogger(config.server.logLevel);
let auth: AuthModule | null = null;
const routes = new Elysia()
  .get("/bench/open", () => ({ ok: true }))
  .get("/bench/authed", async ({ request }) => {
    await auth!.current.verified(request);
    return { ok: true };
  });
const gatehouse = await startGatehouse(config, log, [routes]);
auth = gatehouse.instance.auth;
exitOnSignals(() => gatehouse.shutdown(), log, config.server.shutdownTimeoutMs);
