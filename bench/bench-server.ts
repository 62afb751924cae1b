// Gatehouse's real boot plus two identical tiny JSON routes, one open and one behind the
// full authenticated path, so a load run can compare them on the same connections; and a route
// that only hashes a password through the crypto pool, with none of a sign-up's other work.
import { Elysia } from "elysia";
import { runGatehouse } from "../src/entry.ts";
import { runtimeServe } from "../test/helpers/runtime-serve.ts";
import type { AuthModule } from "../src/auth/auth-module.ts";

let auth: AuthModule | null = null;
const routes = new Elysia()
  .get("/bench/open", () => ({ ok: true }))
  .get("/bench/authed", async ({ request }) => {
    await auth!.current.verified(request);
    return { ok: true };
  })
  .post("/bench/hash", async () => {
    await auth!.passwords.hash("bench-password");
    return { ok: true };
  });
const gatehouse = await runGatehouse(process.env, await runtimeServe(), [routes]);
auth = gatehouse.instance.auth;
