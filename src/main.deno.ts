/** Deno entry (`npm run start:deno`): the server with Deno's serve. */
import { runGatehouse } from "./entry.ts";
import { serveDeno } from "./runtime/deno.ts";

await runGatehouse(process.env, serveDeno);
