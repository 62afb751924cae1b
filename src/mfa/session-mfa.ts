import { BoundedMap } from "../cache/bounded-map.ts";
import type { Principal } from "../auth/current-user.ts";
import type { DeviceSessionsRepo } from "../db/repos/device-sessions.ts";

/** `amr` values that are a second factor (or a passkey, which is one on its own). */
const STRONG = new Set(["otp", "hwk"]);

/** True when `amr` includes a second factor. */
export function isMultiFactor(amr: readonly string[] | null | undefined): boolean {
  return (amr ?? []).some((m) => STRONG.has(m));
}

/**
 * Whether a request's session was made with a second factor (forward auth's `X-User-MFA`):
 * from the token's `amr` claim (asymmetric tokens), else from its device session row, cached
 * per `jti` (a session's methods never change). API keys and legacy tokens: false.
 */
export class SessionMfaLookup {
  readonly #byJti = new BoundedMap<string, boolean>(50_000, 3_600_000);

  constructor(private readonly sessions: DeviceSessionsRepo) {}

  async of(p: Principal): Promise<boolean> {
    if (p.via !== "jwt" || !p.claims) return false;
    if (p.claims.amr !== undefined) return isMultiFactor(p.claims.amr);
    const jti = p.claims.jti;
    if (jti === undefined) return false;
    let known = this.#byJti.get(jti);
    if (known === undefined) {
      const row = await this.sessions.byId(jti);
      known = isMultiFactor(row?.amr?.split(","));
      this.#byJti.set(jti, known);
    }
    return known;
  }
}
