import { esc } from "./html.ts";
import { page } from "./layout.ts";

/**
 * The answer to the pages' sign-out when the session came from a provider with RP-initiated
 * logout: signed out here already, the browser goes on to the provider's logout URL (with a
 * link for when the refresh does not happen).
 */
export function providerSignOutPage(logoutUrl: string, cookies: readonly string[]): Response {
  return page({
    title: "Signing out",
    cookies,
    refreshTo: logoutUrl,
    body: `<h1>You are signed out</h1>
<section class="card"><p>Next, your identity provider signs you out of its session too.</p>
<a class="button" href="${esc(logoutUrl)}">Continue to your identity provider</a></section>`,
  });
}
