import * as grpc from "@grpc/grpc-js";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames, openRevocationsBucket, type RevocationsBucket } from "@otmetka/messaging";
import { AuthServiceClient, AuthServiceService } from "@otmetka/proto/identity/v1/auth_service";
import {
  IdentityServiceClient,
  IdentityServiceService,
  PersonKind,
} from "@otmetka/proto/identity/v1/identity_service";
import {
  bearerMetadata,
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  type ManualClock,
  manualClock,
  promiseClient,
  startGrpcServer,
} from "@otmetka/service-kit";
import { afterAll, beforeAll } from "vitest";
import { createAccount } from "../accounts/accounts.js";
import { bootstrapAdmin } from "../accounts/bootstrap-admin.js";
import type { AuthDeps } from "../accounts/deps.js";
import { createAuthService } from "../api/auth-service.js";
import { createIdentityService } from "../api/identity-service.js";
import { createAuthDeps } from "../auth-setup.js";
import { grantRole } from "../commands/grants.js";
import { assignStaffToSchool } from "../commands/guardians.js";
import { type JwksServer, startJwksServer } from "../tokens/jwks-http.js";
import { cmd, givenPerson, TEST_NOW, useIdentity } from "./in-process.js";

export const ADMIN = { username: "admin", password: "correct-horse-battery-staple" };
export const REGION_ID = "74";
export const ACCESS_TTL_SECONDS = 600;
export const REFRESH_TTL_SECONDS = 3600;
export const REFRESH_FAMILY_MAX_AGE_SECONDS = 3 * REFRESH_TTL_SECONDS;

/**
 * Identity served in-process on free ports: gRPC (IdentityService and AuthService) and the
 * JWKS over HTTP, with callers verified against that JWKS URL exactly as in main.ts. One
 * manual clock drives token issue, expiry checks and lockout, so nothing sleeps.
 */
export function useAuthHarness(label: string) {
  const identity = useIdentity(label);
  const clock: ManualClock = manualClock(TEST_NOW);
  const logger = createLogger({ service: "identity-test", level: "silent" });
  let auth: AuthDeps | undefined;
  let jwks: JwksServer | undefined;
  let server: GrpcServer | undefined;
  let authClient: AuthServiceClient | undefined;
  let identityClient: IdentityServiceClient | undefined;
  let nc: NatsConnection | undefined;
  let revocations: RevocationsBucket | undefined;
  beforeAll(async () => {
    const deps = { ...identity.deps, clock };
    nc = await connect({ servers: identity.env.natsUrl });
    revocations = await openRevocationsBucket(nc, messagingNames(identity.env.natsPrefix));
    ({ auth } = await createAuthDeps(deps, {
      revocations,
      accessTokenTtlSeconds: ACCESS_TTL_SECONDS,
      refreshTokenTtlSeconds: REFRESH_TTL_SECONDS,
      refreshFamilyMaxAgeSeconds: REFRESH_FAMILY_MAX_AGE_SECONDS,
      signingKeyRotationDays: 30,
      regionId: REGION_ID,
    }));
    await bootstrapAdmin(auth, ADMIN);
    jwks = await startJwksServer({ host: "127.0.0.1", port: 0, keys: auth.keys, logger });
    const verifier = createCallerVerifier({ jwksUrl: jwks.url, clock, refetchCooldownMs: 0 });
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      logger,
      graceMs: 0,
      drainTimeoutMs: 1000,
      services: [
        {
          definition: IdentityServiceService,
          implementation: createIdentityService({
            deps,
            logger,
            region: { id: REGION_ID, name: "Челябинская область" },
            verifier,
          }),
        },
        {
          definition: AuthServiceService,
          implementation: createAuthService({ deps: auth, logger, verifier }),
        },
      ],
    });
    const address = `127.0.0.1:${server.port}`;
    authClient = new AuthServiceClient(address, grpc.credentials.createInsecure());
    identityClient = new IdentityServiceClient(address, grpc.credentials.createInsecure());
  }, 60_000);
  afterAll(async () => {
    authClient?.close();
    identityClient?.close();
    await server?.shutdown();
    await jwks?.close();
    await nc?.close();
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("harness read before beforeAll");
    return v;
  };
  const h = {
    identity,
    clock,
    get auth() {
      return need(auth);
    },
    get nc() {
      return need(nc);
    },
    get revocations() {
      return need(revocations);
    },
    get jwksUrl() {
      return need(jwks).url;
    },
    get authApi() {
      return promiseClient(need(authClient));
    },
    get api() {
      return promiseClient(need(identityClient));
    },
    md: (token: string) => bearerMetadata(token),
    async login(username: string, password: string) {
      const res = await h.authApi.login({ username, password });
      return res.tokens!;
    },
    adminToken: async () => (await h.login(ADMIN.username, ADMIN.password)).accessToken,
    /**
     * A user account with the given grants (claims form), logged in: its access token. School
     * roles need a person working at the school: without `personId`, a staff member registered
     * at the first claim's school and assigned to the others'.
     */
    async userWith(claims: string[], personId = "") {
      const username = `u${Math.random().toString(36).slice(2, 12)}`;
      const password = `pw-${username}-long-enough`;
      const schools = [
        ...new Set(
          claims.map((c) => /@school:(.+)$/.exec(c)?.[1]).filter((id) => id !== undefined),
        ),
      ];
      if (personId === "" && schools.length > 0) {
        const d = identity.deps;
        personId = await givenPerson(d, schools[0]!, PersonKind.PERSON_KIND_STAFF);
        for (const schoolId of schools.slice(1))
          await assignStaffToSchool(d, { commandId: cmd(), personId, schoolId });
      }
      const { accountId } = await createAccount(need(auth), { username, password, personId });
      for (const claim of claims) {
        const [role, scope = ""] = claim.split("@");
        const [scopeKind = "", scopeId = ""] = scope.split(":");
        await grantRole(
          need(auth),
          { commandId: cmd(), accountId, grant: { role: role!, scopeKind, scopeId } },
          {},
          () => {},
        );
      }
      const tokens = await h.login(username, password);
      return { accountId, username, password, token: tokens.accessToken, tokens };
    },
    /** Call metadata of a fresh user with the given grants (see userWith). */
    async callerWith(claims: string[], personId = "") {
      return h.md((await h.userWith(claims, personId)).token);
    },
  };
  return h;
}
