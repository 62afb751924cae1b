/** A JSON response with any number of `Set-Cookie` headers. */
export function json(body: unknown, init: { status?: number; cookies?: readonly string[]; headers?: Record<string, string> } = {}): Response {
  const headers = new Headers({ "content-type": "application/json", ...init.headers });
  for (const c of init.cookies ?? []) headers.append("set-cookie", c);
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

/**
 * `response` with one more header value. Some responses have immutable headers (a
 * `Response.redirect`, a passed-through upstream response): those are copied first.
 */
export function appendHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.append(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.append(name, value);
    return copy;
  }
}
