import { expect, test } from "bun:test";
import { bootOutcome } from "./security-server.ts";

// Hole 15: Open WebUI's published default secret and an empty one stop the boot; a short one is warned about.
test("WEBUI_SECRET_KEY=t0p-s3cr3t (Open WebUI's default) exits 2 naming the variable", async () => {
  const r = await bootOutcome({ WEBUI_SECRET_KEY: "t0p-s3cr3t" });
  expect({ code: r.code, live: r.live }).toEqual({ code: 2, live: false });
  expect(r.output).toContain("WEBUI_SECRET_KEY");
});

test("an empty WEBUI_SECRET_KEY exits 2 naming the variable (unset still means: generate one)", async () => {
  const [r, unset] = await Promise.all([bootOutcome({ WEBUI_SECRET_KEY: "" }), bootOutcome({})]);
  expect({ code: r.code, live: r.live }).toEqual({ code: 2, live: false });
  expect(r.output).toContain("WEBUI_SECRET_KEY");
  expect({ code: unset.code, live: unset.live }).toEqual({ code: null, live: true });
});

test("a secret under 32 bytes boots with a warning that does not print it", async () => {
  const r = await bootOutcome({ WEBUI_SECRET_KEY: "short-but-mine" });
  expect({ code: r.code, live: r.live }).toEqual({ code: null, live: true });
  expect(r.output).toContain("WEBUI_SECRET_KEY is shorter than 32 bytes");
  expect(r.output).not.toContain("short-but-mine");
});
