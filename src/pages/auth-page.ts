import { esc } from "./html.ts";
import type { Flash } from "./layout.ts";

/** Why an OAuth sign-in ended at `/auth?error=<code>`, in words; unknown codes get a generic line. */
const OAUTH_ERRORS: Record<string, string> = {
  access_denied: "The provider did not grant access.",
  state_mismatch: "The sign-in could not be matched to this browser. Please try again.",
  state_expired_or_used: "That sign-in link expired or was already used. Please try again.",
  missing_state: "The sign-in could not be matched to this browser. Please try again.",
  nonce_mismatch: "The provider's answer did not match this sign-in. Please try again.",
  id_token_expired: "The provider's answer had expired. Please try again.",
  invalid_id_token: "The provider's answer could not be verified.",
  invalid_id_token_signature: "The provider's answer could not be verified.",
  invalid_token_response: "The provider sent an answer Gatehouse could not use.",
  invalid_callback: "The provider sent an answer Gatehouse could not use.",
  provider_unavailable: "The sign-in provider is unavailable right now. Please try again later.",
  email_missing: "The provider did not share an email address.",
  domain_not_allowed: "Accounts from this email domain are not allowed here.",
  email_taken: "An account with this email already exists. Sign in with your password.",
  signup_disabled: "New accounts cannot be created through this provider.",
  user_not_found: "No account is linked to this sign-in.",
  user_mismatch: "This authorisation was started by another account.",
  userinfo_failed: "The provider did not answer with your profile. Please try again later.",
  userinfo_sub_mismatch: "The provider's profile answer did not match this sign-in.",
  email_not_verified: "An account with this email already exists, and the provider does not confirm the address is yours. Sign in with your password.",
  hosted_domain_mismatch: "Only accounts of this organisation's Google Workspace domain can sign in.",
};

/** Notices a redirect may ask for, by code: a link can never put its own words on our page. */
export const NOTICES = {
  signed_out: "You are signed out.",
  session_ended: "Your session has ended. Please sign in again.",
  revoked: "Session revoked. That device is signed out on its next request.",
  already_ended: "That session had already ended.",
  revoked_others: "Every other session is signed out.",
} as const;

/** A notice code of {@link NOTICES}. */
export type NoticeCode = keyof typeof NOTICES;

/** The flash for `?error=<code>` / `?notice=<code>`; unknown codes get a generic line, never their own text. */
export function flashFrom(query: URLSearchParams): Flash | null {
  const error = query.get("error");
  if (error) {
    const known = OAUTH_ERRORS[error];
    return { kind: "error", text: known ?? (/^[a-z0-9_]{1,64}$/i.test(error) ? `Sign-in failed (${error}).` : "Sign-in failed.") };
  }
  const notice = query.get("notice");
  return notice !== null && Object.hasOwn(NOTICES, notice) ? { kind: "notice", text: NOTICES[notice as NoticeCode] } : null;
}

/** A sign-in button's target and label. */
export interface ProviderButton {
  name: string;
  label: string;
}

/** What the sign-in page shows. */
export interface AuthPageModel {
  signedInAs: { name: string; email: string } | null;
  providers: readonly ProviderButton[];
  signUpOpen: boolean;
  /** Prefills the email field after a failed attempt. */
  email?: string;
  /** `LDAP_SERVER_LABEL` when LDAP sign-in is on (the form is shown), else null. */
  ldapLabel?: string | null;
  /** Prefills the LDAP user field after a failed attempt. */
  ldapUser?: string;
  /** A same-site path to go to after sign-in (already checked with safeNext). */
  next?: string | null;
  /** Offer "sign in with a passkey" (button, and passkeys in the email field's autofill). */
  passkeys?: boolean;
}

/** The `/auth` page body. */
export function authPageBody(m: AuthPageModel): string {
  if (m.signedInAs) {
    return `<h1>Signed in</h1>
<section class="card" aria-labelledby="who">
<h2 id="who">You are signed in as ${esc(m.signedInAs.name)}</h2>
<p class="muted">${esc(m.signedInAs.email)}</p>
<a class="button" href="/account/sessions">Your devices</a>
<form class="inline" method="post" action="/auth/signout"><button class="secondary" type="submit">Sign out</button></form>
</section>`;
  }
  const providers = m.providers.length === 0 ? "" : `<section class="card" aria-labelledby="sso">
<h2 id="sso">Sign in with</h2>
<div class="providers">${m.providers.map((p) => `<a class="button secondary" href="/oauth/${esc(encodeURIComponent(p.name))}/login">${esc(p.label)}</a>`).join("")}</div>
</section>`;
  const signUp = !m.signUpOpen ? "" : `<section class="card" aria-labelledby="signup-title">
<h2 id="signup-title">Create an account</h2>
<form method="post" action="/auth/signup">
<label for="signup-name">Name</label><input id="signup-name" name="name" autocomplete="name" required maxlength="255">
<label for="signup-email">Email</label><input id="signup-email" name="email" type="email" autocomplete="email" required maxlength="320">
<label for="signup-password">Password</label><input id="signup-password" name="password" type="password" autocomplete="new-password" required maxlength="4096">
<button type="submit">Create account</button>
</form>
</section>`;
  const ldap = m.ldapLabel == null ? "" : `<section class="card" aria-labelledby="ldap-title">
<h2 id="ldap-title">${esc(m.ldapLabel)}</h2>
<form method="post" action="/auth/ldap">
<label for="ldap-user">Username</label><input id="ldap-user" name="user" autocomplete="username" required maxlength="256" value="${esc(m.ldapUser ?? "")}">
<label for="ldap-password">Directory password</label><input id="ldap-password" name="password" type="password" autocomplete="current-password" required maxlength="4096">
<button type="submit">Sign in with ${esc(m.ldapLabel)}</button>
</form>
</section>`;
  return `<h1>Sign in to Gatehouse</h1>
${ldap}
<section class="card" aria-labelledby="signin-title">
<h2 id="signin-title">Email and password</h2>
<form method="post" action="/auth/signin">${m.next ? `<input type="hidden" name="next" value="${esc(m.next)}">` : ""}
<label for="signin-email">Email</label><input id="signin-email" name="email" type="email" autocomplete="${m.passkeys ? "username webauthn" : "username"}" required maxlength="320" value="${esc(m.email ?? "")}">
<label for="signin-password">Password</label><input id="signin-password" name="password" type="password" autocomplete="current-password" required maxlength="4096">
<button type="submit">Sign in</button>
</form>
</section>
${m.passkeys ? `<section class="card" aria-labelledby="passkey-title" hidden data-needs-script>
<h2 id="passkey-title">Passkey</h2>
<button type="button" data-action="passkey-signin">Sign in with a passkey</button>
<p id="passkey-status" role="status" class="muted"></p>
</section>` : ""}
${providers}
${signUp}`;
}
