import { Elysia, t } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { PasskeyService } from "../mfa/passkeys.ts";
import type { MfaModule } from "../mfa/mfa-module.ts";
import { MfaError } from "../mfa/mfa-errors.ts";
import { json } from "./respond.ts";
import { sessionPrincipal } from "./mfa-routes.ts";
import { signedInResponse } from "./signed-in.ts";

/** A WebAuthn response as the browser serialises it (checked by @simplewebauthn/server). */
const WebAuthnResponse = t.Object({ id: t.String({ maxLength: 1024 }), rawId: t.String({ maxLength: 1024 }), type: t.String({ maxLength: 32 }), response: t.Record(t.String(), t.Unknown()) }, { additionalProperties: true });

/**
 * `/api/v1/auths/passkeys/*`: register (options, verify), authenticate (options, verify:
 * passwordless sign-in, or options for the second step of an `mfa_token`), list, rename,
 * delete. 404 `ERR_PASSKEYS_DISABLED` on every route when passkeys are off.
 */
export function passkeyRoutes(s: Services, auth: AuthModule, m: MfaModule) {
  const on = (): PasskeyService => {
    if (!m.passkeys) throw new MfaError("ERR_PASSKEYS_DISABLED");
    return m.passkeys;
  };
  const owner = async (request: Request) => {
    const pk = on();
    return { pk, user: (await sessionPrincipal(auth, request)).user };
  };
  return new Elysia({ name: "gatehouse.passkeys", prefix: "/api/v1/auths/passkeys" })
    .get("", async ({ request }) => {
      const { pk, user } = await owner(request);
      return json(await pk.list(user));
    })
    .post("/register/options", async ({ request }) => {
      const { pk, user } = await owner(request);
      return json(await pk.registrationOptions(user));
    })
    .post("/register/verify", async ({ request, body }) => {
      const { pk, user } = await owner(request);
      return json(await pk.register(user, request, body.response, body.name));
    }, { body: t.Object({ response: WebAuthnResponse, name: t.Optional(t.String({ maxLength: 64 })) }) })
    .post("/authenticate/options", async ({ request, body }) => {
      const pk = on();
      const pending = body?.mfa_token ? await m.mfa.pending.peek(body.mfa_token, request) : null;
      return json(await pk.authenticationOptions(pending));
    }, { body: t.Optional(t.Object({ mfa_token: t.Optional(t.String({ maxLength: 128 })) })) })
    .post("/authenticate/verify", async ({ request, body }) => {
      const user = await on().authenticate(request, body.response);
      return signedInResponse(s, auth, request, user, { method: "passkey", amr: ["hwk"] });
    }, { body: t.Object({ response: WebAuthnResponse }) })
    .patch("/:id", async ({ request, params, body }) => {
      const { pk, user } = await owner(request);
      await pk.rename(user, params.id, body.name);
      return json({ status: true });
    }, { body: t.Object({ name: t.String({ minLength: 1, maxLength: 64 }) }) })
    .delete("/:id", async ({ request, params }) => {
      const { pk, user } = await owner(request);
      await pk.delete(user, params.id);
      return json({ status: true });
    });
}
