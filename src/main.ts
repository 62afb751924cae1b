/** Bun entry (`npm start`): the server with Bun's serve. */
import { runGatehouse } from "./entry.ts";
import { serveBun } from "./runtime/bun.ts";

await runGatehouse(process.env, serveBun);
