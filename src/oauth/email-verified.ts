/**
 * Whether a provider login asserts that its email address is verified — the condition for
 * linking it to an existing account by email (`OAUTH_MERGE_ACCOUNTS_BY_EMAIL`). Open WebUI
 * merges on any matching email; Gatehouse deliberately does not, because a provider that lets a
 * user type any address (a multi-tenant directory, a self-service IdP) would otherwise hand over
 * the existing account.
 */

/**
 * `email_verified` is `true` (some providers send the string `"true"`); for Microsoft Entra ID,
 * which sends no `email_verified`, also its `xms_edov` claim (the email's domain is verified by
 * the tenant that owns it). GitHub's claims carry `email_verified` from `/user/emails`.
 */
export function emailVerified(provider: string, claims: Record<string, unknown>): boolean {
  const v = claims["email_verified"];
  if (v === true || v === "true") return true;
  return provider === "microsoft" && (claims["xms_edov"] === true || claims["xms_edov"] === "true");
}
