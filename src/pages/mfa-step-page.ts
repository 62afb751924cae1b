import { esc } from "./html.ts";
import type { MfaMethod } from "../mfa/mfa-service.ts";

/** The sign-in page's second step: a code form, a recovery-code form and, with a passkey, its button. */
export function mfaStepPageBody(m: { mfaToken: string; methods: readonly MfaMethod[] }): string {
  const token = `<input type="hidden" name="mfa_token" value="${esc(m.mfaToken)}">`;
  const totp = !m.methods.includes("totp") ? "" : `<form method="post" action="/auth/mfa">${token}
<label for="mfa-code">Code from your authenticator app</label><input id="mfa-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="6" pattern="[0-9]{6}" autofocus>
<button type="submit">Verify</button>
</form>`;
  const passkey = !m.methods.includes("webauthn") ? "" : `<div hidden data-needs-script>
<button type="button" data-action="passkey-mfa" data-mfa-token="${esc(m.mfaToken)}">Use a passkey</button>
<p id="passkey-status" role="status" class="muted"></p>
</div>`;
  const recovery = !m.methods.includes("recovery_code") ? "" : `<section class="card" aria-labelledby="recovery-title">
<h2 id="recovery-title">Lost your authenticator?</h2>
<form method="post" action="/auth/mfa">${token}
<label for="mfa-recovery">Recovery code</label><input id="mfa-recovery" name="recovery_code" autocomplete="off" required maxlength="20">
<button class="secondary" type="submit">Use a recovery code</button>
</form>
</section>`;
  return `<h1>Two-step sign-in</h1>
<section class="card" aria-labelledby="step-title">
<h2 id="step-title">Confirm it is you</h2>
${totp}
${passkey}
</section>
${recovery}
<p class="muted"><a href="/auth">Start over</a></p>`;
}
