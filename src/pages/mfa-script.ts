/**
 * The one script Gatehouse pages load, served at {@link MFA_SCRIPT_PATH} and allowed by the
 * pages' CSP by its exact URL: passkey sign-in (button and conditional UI), the passkey second
 * step, and passkey registration. Elements opt in with `data-action`; there is no inline script.
 * Kept as a string (not a file read at runtime) so it ships inside the bundle on Bun and Deno.
 */
export const MFA_SCRIPT_PATH = "/static/gatehouse-mfa.js";

/** The script's source. */
export const MFA_SCRIPT = String.raw`// Gatehouse passkey helper: the only script the pages load (served from /static/gatehouse-mfa.js,
// allowed by the pages' CSP by exact URL). Elements opt in with data attributes; no inline script.
"use strict";
(() => {
  const b64uToBuf = (s) => {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  };
  const bufToB64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const status = (el, text) => {
    const out = document.getElementById(el.getAttribute("data-status") || "passkey-status");
    if (out) out.textContent = text;
  };
  const post = async (url, body) => {
    const r = await fetch(url, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(json.detail || "HTTP " + r.status);
    return json;
  };
  const creationOptions = (o) => ({
    ...o, challenge: b64uToBuf(o.challenge), user: { ...o.user, id: b64uToBuf(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) })),
  });
  const requestOptions = (o) => ({ ...o, challenge: b64uToBuf(o.challenge), allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) })) });
  const credentialJson = (c) => {
    const r = c.response;
    const response = { clientDataJSON: bufToB64u(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = bufToB64u(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = bufToB64u(r.authenticatorData);
      response.signature = bufToB64u(r.signature);
      if (r.userHandle) response.userHandle = bufToB64u(r.userHandle);
    }
    return { id: c.id, rawId: bufToB64u(c.rawId), type: c.type, response, clientExtensionResults: c.getClientExtensionResults(), authenticatorAttachment: c.authenticatorAttachment || undefined };
  };
  let conditional = null;
  const get = async (options, mediation) => {
    if (conditional) conditional.abort();
    const ctl = new AbortController();
    if (mediation === "conditional") conditional = ctl;
    return navigator.credentials.get({ publicKey: requestOptions(options), mediation, signal: ctl.signal });
  };
  // One passwordless sign-in at a time: a conditional request that completes must not race a click.
  let signingIn = false;
  const passwordless = async (el, mediation) => {
    if (signingIn) return;
    const options = await post("/api/v1/auths/passkeys/authenticate/options");
    const cred = await get(options, mediation);
    if (!cred || signingIn) return;
    signingIn = true;
    await post("/api/v1/auths/passkeys/authenticate/verify", { response: credentialJson(cred) }).catch((e) => {
      signingIn = false;
      throw e;
    });
    location.assign(el.getAttribute("data-next") || "/account/sessions");
  };
  const actions = {
    async "passkey-signin"(el) {
      await passwordless(el, "optional");
    },
    async "passkey-mfa"(el) {
      const token = el.getAttribute("data-mfa-token");
      const options = await post("/api/v1/auths/passkeys/authenticate/options", { mfa_token: token });
      const cred = await get(options, "optional");
      await post("/api/v1/auths/mfa/verify", { mfa_token: token, webauthn: credentialJson(cred) });
      location.assign("/account/sessions");
    },
    async "passkey-register"(el) {
      const options = await post("/api/v1/auths/passkeys/register/options");
      const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
      const nameInput = document.getElementById("passkey-name");
      const done = await post("/api/v1/auths/passkeys/register/verify", { response: credentialJson(cred), name: nameInput ? nameInput.value : undefined });
      if (done.recovery_codes) {
        const list = document.getElementById("new-recovery-codes");
        if (list) {
          list.replaceChildren(...done.recovery_codes.map((c) => Object.assign(document.createElement("li"), { textContent: c })));
          list.closest("[hidden]")?.removeAttribute("hidden");
        }
        status(el, "Passkey added. Save your recovery codes below, then reload the page.");
        return;
      }
      location.assign("/account/security?notice=passkey_added");
    },
  };
  document.addEventListener("click", (ev) => {
    const el = ev.target instanceof Element ? ev.target.closest("[data-action]") : null;
    const action = el && actions[el.getAttribute("data-action")];
    if (!action) return;
    ev.preventDefault();
    if (!window.PublicKeyCredential) return status(el, "This browser does not support passkeys.");
    status(el, "Waiting for your passkey…");
    action(el).catch((e) => status(el, e && e.name === "NotAllowedError" ? "The passkey request was cancelled." : "Passkey failed: " + e.message));
  });
  // Conditional UI: offer passkeys in the email field's autofill on the sign-in page, from the
  // field's first focus (when its autofill can show), so a page left alone makes no request.
  const field = document.querySelector("input[autocomplete~='webauthn']");
  const trigger = document.querySelector("[data-action='passkey-signin']");
  if (field && trigger && window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable) {
    field.addEventListener("focus", () => {
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (ok) passwordless(trigger, "conditional").catch(() => {});
      });
    }, { once: true });
  }
  document.querySelectorAll("[data-needs-script]").forEach((el) => el.removeAttribute("hidden"));
})();
`;

/** The script's absolute URL as the CSP names it: on `WEBUI_URL`'s origin, else the request's. */
export function mfaScriptUrl(publicUrl: string | null, request: Request): string {
  return `${publicUrl === null ? new URL(request.url).origin : new URL(publicUrl).origin}${MFA_SCRIPT_PATH}`;
}
