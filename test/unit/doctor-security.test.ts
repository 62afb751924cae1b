import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";
import { configFindings } from "../../src/cli/doctor-checks.ts";

test("doctor reports what the server refuses to start with: Open WebUI's default secret, a trusted header without proxies", () => {
  const f = configFindings(loadConfig({ WEBUI_SECRET_KEY: "t0p-s3cr3t", WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email" }));
  expect(f.find((x) => x.check === "WEBUI_SECRET_KEY")?.status).toBe("FAIL");
  expect(f.find((x) => x.check === "trusted header")?.status).toBe("FAIL");
  const ok = configFindings(loadConfig({ WEBUI_SECRET_KEY: "a-secret-of-our-own-0123456789abcdef", WEBUI_AUTH_TRUSTED_EMAIL_HEADER: "X-Forwarded-Email", GATEHOUSE_TRUSTED_PROXIES: "10.0.0.0/8" }));
  expect(ok.find((x) => x.check === "WEBUI_SECRET_KEY")?.status).toBe("OK");
  expect(ok.find((x) => x.check === "trusted header")).toBeUndefined();
});
