// Preloaded by bun test (bunfig.toml): integration tests start real servers and need more than 5 s.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
