import { esc } from "./html.ts";
import type { FactorSummary } from "../mfa/mfa-service.ts";
import type { PasskeySummary } from "../mfa/passkeys.ts";

/** What `/account/security` shows. */
export interface SecurityPageModel {
  user: { name: string; email: string };
  factors: FactorSummary;
  /** Null when passkeys are off. */
  passkeys: readonly PasskeySummary[] | null;
  /** A TOTP enrolment just started: the manual key and the QR code (SVG we rendered). */
  enrolment?: { secret: string; qrSvg: string };
  /** Recovery codes just issued (shown this once). */
  recoveryCodes?: readonly string[];
}

function totpCard(m: SecurityPageModel): string {
  const head = `<section class="card" aria-labelledby="totp-title">\n<h2 id="totp-title">Authenticator app</h2>`;
  if (m.factors.totp.enabled) {
    return `${head}
<p>An authenticator app is set up: signing in with your password also asks for its code.</p>
<form method="post" action="/account/security/totp/disable">
<label for="disable-code">Current code (or leave empty and give your password)</label><input id="disable-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" pattern="[0-9]{6}">
<label for="disable-password">Password</label><input id="disable-password" name="password" type="password" autocomplete="current-password" maxlength="4096">
<button class="secondary" type="submit">Remove the authenticator app</button>
</form>
</section>`;
  }
  if (m.enrolment) {
    return `${head}
<p>Scan the QR code with your authenticator app, or type the key by hand. Then enter the code it shows.</p>
<div class="qr" role="img" aria-label="QR code of the authenticator key">${m.enrolment.qrSvg}</div>
<p><strong id="totp-secret-label">Key for manual entry</strong></p>
<code class="secret" id="totp-secret" aria-labelledby="totp-secret-label">${esc(m.enrolment.secret)}</code>
<form method="post" action="/account/security/totp/confirm">
<label for="totp-code">Code from the app</label><input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="6" pattern="[0-9]{6}">
<button type="submit">Turn on</button>
</form>
</section>`;
  }
  return `${head}
<p>Use an app such as an authenticator on your phone for a second step when you sign in with your password.</p>
<form method="post" action="/account/security/totp/enroll"><button type="submit">Set up an authenticator app</button></form>
</section>`;
}

function recoveryCard(m: SecurityPageModel): string {
  const hasFactor = m.factors.totp.enabled || m.factors.passkeys > 0;
  if (m.recoveryCodes) {
    return `<section class="card" aria-labelledby="codes-title">
<h2 id="codes-title">Your recovery codes</h2>
<p>Each code signs you in once if you lose your authenticator. Save them now: they are not shown again.</p>
<ol class="codes" id="recovery-codes">${m.recoveryCodes.map((c) => `<li>${esc(c)}</li>`).join("")}</ol>
</section>`;
  }
  if (!hasFactor) return "";
  return `<section class="card" aria-labelledby="codes-title">
<h2 id="codes-title">Recovery codes</h2>
<p>${m.factors.recovery_codes.remaining} unused ${m.factors.recovery_codes.remaining === 1 ? "code" : "codes"} left.</p>
<form method="post" action="/account/security/recovery-codes"><button class="secondary" type="submit">Make new recovery codes</button></form>
</section>`;
}

function passkeysCard(m: SecurityPageModel): string {
  if (m.passkeys === null) return "";
  const items = m.passkeys.map((p) => {
    const id = esc(encodeURIComponent(p.id));
    return `<li data-passkey="${esc(p.id)}">
<div><strong>${esc(p.name)}</strong><div class="muted">Added ${esc(new Date(p.created_at * 1000).toISOString().slice(0, 10))}${p.last_used_at ? ` · last used ${esc(new Date(p.last_used_at * 1000).toISOString().slice(0, 10))}` : ""}${p.backed_up ? " · synced" : ""}</div>
<form method="post" action="/account/security/passkeys/${id}/rename"><label for="rename-${id}">New name</label><input id="rename-${id}" name="name" required maxlength="64" value="${esc(p.name)}"><button class="secondary" type="submit">Rename</button></form></div>
<form method="post" action="/account/security/passkeys/${id}/delete"><button class="danger" type="submit" aria-label="Remove passkey ${esc(p.name)}">Remove</button></form>
</li>`;
  }).join("\n");
  return `<section class="card" aria-labelledby="passkeys-title">
<h2 id="passkeys-title">Passkeys</h2>
${m.passkeys.length === 0 ? "<p>No passkey yet. A passkey signs you in without a password, or serves as your second step.</p>" : `<ul class="sessions">${items}</ul>`}
<div hidden data-needs-script>
<label for="passkey-name">Name for a new passkey</label><input id="passkey-name" maxlength="64" placeholder="e.g. Laptop">
<button type="button" data-action="passkey-register">Add a passkey</button>
<p id="passkey-status" role="status" class="muted"></p>
<div hidden><h3>Your recovery codes</h3><p>Save them now: they are not shown again.</p><ol class="codes" id="new-recovery-codes"></ol></div>
</div>
</section>`;
}

/** The `/account/security` page body. */
export function securityPageBody(m: SecurityPageModel): string {
  const mustEnrol = m.factors.required && !m.factors.totp.enabled && m.factors.passkeys === 0;
  return `<nav><h1>Security</h1>
<form method="post" action="/auth/signout"><button class="secondary" type="submit">Sign out</button></form></nav>
<p class="muted">Signed in as ${esc(m.user.name)} (${esc(m.user.email)}). <a href="/account/sessions">Your devices</a></p>
${mustEnrol ? `<div class="flash error" role="alert">This server requires a second factor for your account: set one up below to continue.</div>` : ""}
${totpCard(m)}
${recoveryCard(m)}
${passkeysCard(m)}`;
}
