import type { AnyElysia } from "elysia";
import type { Services } from "./services.ts";
import { createAuthModule, type AuthModule } from "./auth/auth-module.ts";
import { createSessionTokenCodec } from "./auth/session-token-codec.ts";
import { createPasswordHasher } from "./auth/password-hasher.ts";
import { createGatehouse, type Gatehouse } from "./app.ts";

/** One Gatehouse instance on its services: auth wiring plus the HTTP app. */
export interface Instance {
  auth: AuthModule;
  gatehouse: Gatehouse;
  /** Stops background work (activity flush, subscriptions); the services close separately. */
  stop(): Promise<void>;
}

/** Builds the crypto, the auth module and the app, and starts background work. */
export async function assembleInstance(s: Services, extra: AnyElysia[] = []): Promise<Instance> {
  const tokens = await createSessionTokenCodec({ alg: "HS256", secret: s.secretKey });
  const auth = createAuthModule(s, { tokens, passwords: createPasswordHasher() });
  await auth.start();
  const gatehouse = createGatehouse(s, auth, extra);
  return { auth, gatehouse, stop: () => auth.stop() };
}
