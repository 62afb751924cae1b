import type { AnyElysia } from "elysia";
import { loadConfig } from "../../src/config/config.ts";
import { createServices, type Services } from "../../src/services.ts";
import { assembleInstance, type Instance } from "../../src/instance.ts";
import type { FetchHandler } from "../../src/http/request-accounting.ts";
import { captureLogger } from "./capture-log.ts";

/** An in-process Gatehouse on real services, driven through its fetch handler. */
export interface TestApp {
  services: Services;
  instance: Instance;
  fetch: FetchHandler;
  /** `fetch` with a path: `app.request("/health")`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  logText(): string;
  close(): Promise<void>;
}

/** Builds services from `env` (plus a test secret) and composes the app with `extra` plugins. */
export async function startTestApp(env: Record<string, string>, extra: AnyElysia[] = []): Promise<TestApp> {
  const logs = captureLogger(env["GATEHOUSE_LOG_LEVEL"] ?? "info");
  // gatehouse.test is the Host every in-process request below carries (absolute URLs need it allowed);
  // loopback stays allowed for tests that also serve the app on a port.
  const config = loadConfig({ WEBUI_SECRET_KEY: "test-webui-secret-key", GATEHOUSE_ALLOWED_HOSTS: "gatehouse.test,localhost,127.0.0.1", ...env });
  const services = await createServices(config, logs.log, { defaultMetrics: true });
  const instance = await assembleInstance(services, extra);
  const gh = instance.gatehouse;
  return {
    services,
    instance,
    fetch: gh.fetch,
    request: (path, init) => Promise.resolve(gh.fetch(new Request(`http://gatehouse.test${path}`, init))),
    logText: logs.text,
    close: async () => {
      await instance.stop();
      await services.close();
    },
  };
}
