import { Elysia } from "elysia";
import type { AuthModule } from "../auth/auth-module.ts";
import { KeyRing } from "../crypto/jwt/key-ring.ts";
import { jwksDocument } from "../crypto/jwt/jwks.ts";
import { NotFoundError } from "../auth/auth-errors.ts";
import { json } from "./respond.ts";

/**
 * `GET /.well-known/jwks.json`: the public session-token keys (asymmetric algorithms only),
 * retired ones included until their `notAfter`, cacheable for five minutes.
 */
export function jwksRoute(auth: AuthModule) {
  return new Elysia({ name: "gatehouse.jwks" }).get("/.well-known/jwks.json", () => {
    if (!(auth.keys instanceof KeyRing)) throw new NotFoundError("No public keys: session tokens use HS256 (set GATEHOUSE_JWT_ALG to EdDSA, ES256 or RS256)");
    return json(jwksDocument(auth.keys, Date.now() / 1000), { headers: { "cache-control": "public, max-age=300", "content-type": "application/jwk-set+json" } });
  });
}
