/** A JSON response with any number of `Set-Cookie` headers. */
export function json(body: unknown, init: { status?: number; cookies?: readonly string[]; headers?: Record<string, string> } = {}): Response {
  const headers = new Headers({ "content-type": "application/json", ...init.headers });
  for (const c of init.cookies ?? []) headers.append("set-cookie", c);
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}
