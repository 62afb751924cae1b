import type { Principal } from "../auth/current-user.ts";
import type { MfaService } from "./mfa-service.ts";
import { MfaError } from "./mfa-errors.ts";

/** Paths a session of a user who must enrol still reaches: enrolment, the session user, sign-out. */
const OPEN_WHILE_ENROLLING: ReadonlyArray<RegExp> = [
  /^\/api\/v1\/auths\/?$/,
  /^\/api\/v1\/auths\/mfa(?:\/.*)?$/,
  /^\/api\/v1\/auths\/passkeys(?:\/register\/(?:options|verify))?\/?$/,
  /^\/api\/v1\/auths\/signout(?:\/everywhere)?$/,
  /^\/account\/security(?:\/.*)?$/,
  /^\/auth\/signout$/,
];

/** True for the routes an enrolment-limited session may use. */
export function openWhileEnrolling(request: Request): boolean {
  const path = new URL(request.url).pathname;
  return OPEN_WHILE_ENROLLING.some((re) => re.test(path));
}

/** Checks a resolved principal; throws to refuse it. Synchronous when the answer is cached. */
export type PrincipalGate = (p: Principal, request: Request) => void | Promise<void>;

/**
 * `GATEHOUSE_MFA=required` / `required_for_admins`: a session of a user who must have a second
 * factor and has none reaches only the enrolment routes (403 `ERR_MFA_ENROLMENT_REQUIRED`
 * elsewhere) until they enrol. Undefined (no check at all) under the other policies, and with
 * trusted-header sign-in (the proxy authenticates every request). API keys are not limited.
 */
export function enrolmentGate(mfa: MfaService, trustedHeader: boolean): PrincipalGate | undefined {
  if ((mfa.policy !== "required" && mfa.policy !== "required_for_admins") || trustedHeader) return undefined;
  const refuse = () => {
    throw new MfaError("ERR_MFA_ENROLMENT_REQUIRED");
  };
  return (p, request) => {
    if (p.via !== "jwt" || !mfa.requiredFor(p.user) || openWhileEnrolling(request)) return;
    const known = mfa.peekHasFactor(p.user.id);
    if (known === true) return;
    if (known === false) return refuse();
    return mfa.hasFactor(p.user.id).then((has) => (has ? undefined : refuse()));
  };
}
