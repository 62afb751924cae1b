import { freshDatabaseUrl, redisUrl, uniquePrefix } from "./real-services.ts";
import { startTestApp, type TestApp } from "./test-app.ts";
import { postJson } from "./cookie-jar.ts";
import { serveBun, type RunningServer } from "../../src/runtime/bun.ts";

/** A Gatehouse on a fresh database and the real Redis, served over loopback HTTP. */
export interface ServedApp {
  app: TestApp;
  server: RunningServer;
  /** `http://127.0.0.1:PORT` */
  base: string;
  dbUrl: string;
  /** POSTs JSON to `path`, with a bearer token when given. */
  post(path: string, body: unknown, token?: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** Starts an app on a fresh database (`label` names it) with `env` over the defaults, over real HTTP (`port` 0: any free one). */
export async function serveFreshApp(label: string, env: Record<string, string>, port = 0): Promise<ServedApp> {
  const dbUrl = await freshDatabaseUrl(label);
  const app = await startTestApp({ DATABASE_URL: dbUrl, REDIS_URL: await redisUrl(), REDIS_KEY_PREFIX: uniquePrefix(label), ...env });
  const server = serveBun(app.fetch, { host: "127.0.0.1", port, maxBodyBytes: 1_048_576 });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    app, server, base, dbUrl,
    post: (path, body, token, headers = {}) =>
      fetch(`${base}${path}`, postJson(body, token ? { authorization: `Bearer ${token}`, ...headers } : headers)),
    close: async () => {
      await server.stop(true);
      await app.close();
    },
  };
}

/** Signs up through the API and returns the token and id (expects 200). */
export async function signUpOk(s: ServedApp, name: string, email: string, password = `pw-${name}-long`): Promise<{ token: string; id: string }> {
  const r = await s.post("/api/v1/auths/signup", { name, email, password });
  if (r.status !== 200) throw new Error(`sign-up of ${email} answered ${r.status}: ${await r.text()}`);
  const body = (await r.json()) as { token: string; id: string };
  return { token: body.token, id: body.id };
}
