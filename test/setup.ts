// Preloaded by bun test (bunfig.toml).
import { afterAll, setDefaultTimeout } from "bun:test";
import { logLeaks } from "./helpers/log-leaks.ts";

// Integration tests start real servers and need more than 5 s.
setDefaultTimeout(60_000);

// No test file may let a token, key, hash or password reach a log stream.
afterAll(() => {
  const leaks = logLeaks();
  if (leaks.length > 0) throw new Error(`secrets reached the log stream:\n${leaks.slice(0, 20).join("\n")}`);
});
