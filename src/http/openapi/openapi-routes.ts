import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { SCHEMAS } from "./schemas.ts";

/** The Swagger UI files served from our own origin: the docs page loads nothing from a CDN. */
const ASSETS: Record<string, string> = {
  "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
};

const TAGS = [
  { name: "auth", description: "Sign-up, sign-in, sign-out and the session user (Open WebUI's paths and bodies)" },
  { name: "account", description: "Password and profile changes" },
  { name: "api-keys", description: "The user's `sk-…` API key" },
  { name: "sessions", description: "Device sessions and forward auth" },
  { name: "users", description: "Admin user changes that affect sessions" },
  { name: "gateway", description: "OpenAI-compatible chat gateway" },
  { name: "oauth", description: "OAuth / OIDC sign-in, provider tokens and MCP authorisation" },
  { name: "pages", description: "Server-rendered sign-in and devices pages and their form posts" },
  { name: "health", description: "Probes and metrics" },
];

/**
 * `/openapi` (Swagger UI, served locally) and `/openapi/json` (the OpenAPI 3.1 document).
 * Route documentation comes from the route catalog via `applyRouteDocs`.
 */
export function openapiRoutes(version: string) {
  const cache = new Map<string, Promise<ArrayBuffer>>();
  // A file: URL resolved like an import, read with fetch: the same on Bun and Deno.
  const asset = (name: string) => {
    let p = cache.get(name);
    if (!p) {
      p = fetch(import.meta.resolve(`swagger-ui-dist/${name}`)).then((r) => r.arrayBuffer());
      cache.set(name, p);
    }
    return p;
  };
  return new Elysia({ name: "gatehouse.openapi" })
    .get("/openapi/assets/:file", async ({ params }) => {
      const type = ASSETS[params.file];
      if (!type) return new Response(JSON.stringify({ detail: "Not Found" }), { status: 404, headers: { "content-type": "application/json" } });
      return new Response(await asset(params.file), { headers: { "content-type": type, "cache-control": "public, max-age=86400" } });
    }, { detail: { hide: true } })
    .use(openapi({
      path: "/openapi",
      specPath: "/openapi/json",
      // The plugin skips paths with a dot as static files by default, which would hide /.well-known/jwks.json.
      exclude: { staticFile: false },
      provider: "swagger-ui",
      swagger: { cdn: "/openapi/assets/swagger-ui-bundle.js", theme: "/openapi/assets/swagger-ui.css", autoDarkMode: false },
      documentation: {
        info: {
          title: "Gatehouse",
          version,
          description: "Auth runtime for LLM chat deployments, wire-compatible with Open WebUI. Every error answers `{\"detail\": \"...\"}`.",
        },
        tags: TAGS,
        components: {
          schemas: SCHEMAS as never,
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Session token or `sk-…` API key" },
            cookie: { type: "apiKey", in: "cookie", name: "token", description: "The HttpOnly session cookie" },
            apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "An `sk-…` API key" },
          },
        },
      },
    }));
}
