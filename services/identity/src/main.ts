// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { openRevocationsBucket, startEventSourcedService } from "@otmetka/messaging";
import { AccessAuditServiceService } from "@otmetka/proto/identity/v1/access_audit_service";
import { AuthServiceService } from "@otmetka/proto/identity/v1/auth_service";
import { IdentityServiceService } from "@otmetka/proto/identity/v1/identity_service";
import { createCallerVerifier, runService, serveGrpc, systemClock } from "@otmetka/service-kit";
import { bootstrapAdmin } from "./accounts/bootstrap-admin.js";
import { deleteAccountsOfErasures } from "./accounts/erased-accounts.js";
import { startRevocationWriter } from "./accounts/revocations.js";
import { createAuthService } from "./api/auth-service.js";
import { routeIdentityEvent } from "./api/event-routing.js";
import { createIdentityService } from "./api/identity-service.js";
import { createAccessAuditService } from "./audit/api.js";
import { startAccessAudit } from "./audit/wiring.js";
import { createAuthDeps } from "./auth-setup.js";
import { config, telemetry } from "./bootstrap.js";
import { rewrapDataKeys } from "./crypto/person-keys.js";
import { openIdentityDatabase } from "./db/open-database.js";
import { startJwksServer } from "./tokens/jwks-http.js";

// Wiring only. Shutdown runs in reverse: gRPC server, JWKS, relay, NATS, database, telemetry.
await runService(async (lifecycle) => {
  const { logger, store, nc, names } = await startEventSourcedService(lifecycle, {
    service: "identity",
    config,
    telemetry,
    openDatabase: openIdentityDatabase,
    // Data keys wrapped by a retired master key are rewrapped before anything uses them.
    afterDatabase: async (db, log) => {
      const rewrapped = await rewrapDataKeys(db.pool, config.IDENTITY_MASTER_KEYS);
      if (rewrapped > 0) {
        log.info(
          { rewrapped, master_key_id: config.IDENTITY_MASTER_KEYS.active.id },
          "data keys rewrapped",
        );
      }
    },
    route: routeIdentityEvent,
  });

  // Access audit: AUDIT stream -> monthly partitions (stopped before NATS and the database).
  const audit = await startAccessAudit({
    pool: store.pool,
    nc,
    natsPrefix: config.NATS_PREFIX,
    replicas: config.NATS_STREAM_REPLICAS,
    clock: systemClock,
    logger,
    retentionMonths: config.IDENTITY_AUDIT_RETENTION_MONTHS,
    streamMaxAgeDays: config.IDENTITY_AUDIT_STREAM_MAX_AGE_DAYS,
  });
  lifecycle.onShutdown("access audit", () => audit.stop());

  // Access revocations: identity's own stream -> the KV bucket the gateway watches.
  const revocations = await openRevocationsBucket(nc, names);
  const revocationWriter = await startRevocationWriter({ nc, names, logger, bucket: revocations });
  lifecycle.onShutdown("revocation writer", () => revocationWriter.stop());

  const deps = {
    store,
    clock: systemClock,
    masterKeys: config.IDENTITY_MASTER_KEYS,
    blindIndexKey: config.IDENTITY_BLIND_INDEX_KEY,
  };
  const { auth, resealed, activeKid, rotated } = await createAuthDeps(deps, {
    accessTokenTtlSeconds: config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: config.IDENTITY_REFRESH_TOKEN_TTL_SECONDS,
    refreshFamilyMaxAgeSeconds: config.IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS,
    signingKeyRotationDays: config.IDENTITY_SIGNING_KEY_ROTATION_DAYS,
    regionId: config.IDENTITY_REGION_ID,
    revocations,
  });
  logger.info({ kid: activeKid, rotated, resealed }, "signing key ready");
  const repaired = await deleteAccountsOfErasures(deps);
  if (repaired.length > 0) {
    logger.info({ account_ids: repaired }, "AccountDeleted written for accounts of past erasures");
  }
  if (config.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD) {
    const admin = await bootstrapAdmin(auth, {
      username: config.IDENTITY_BOOTSTRAP_ADMIN_USERNAME,
      password: config.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD,
    });
    if (admin) logger.info({ account_id: admin.accountId }, "bootstrap PLATFORM_ADMIN created");
  }
  const jwks = await startJwksServer({
    host: config.IDENTITY_HTTP_HOST,
    port: config.IDENTITY_HTTP_PORT,
    keys: auth.keys,
    logger,
  });
  lifecycle.onShutdown("jwks http", () => jwks.close());
  logger.info({ url: jwks.url }, "jwks served");
  // Identity checks its callers like every service: against the JWKS URL (its own by default).
  const verifier = createCallerVerifier({ jwksUrl: config.AUTH_JWKS_URL });

  await serveGrpc({
    config,
    logger,
    lifecycle,
    services: [
      {
        definition: IdentityServiceService,
        implementation: createIdentityService({
          deps,
          logger,
          region: { id: config.IDENTITY_REGION_ID, name: config.IDENTITY_REGION_NAME },
          verifier,
        }),
      },
      {
        definition: AuthServiceService,
        implementation: createAuthService({ deps: auth, logger, verifier }),
      },
      {
        definition: AccessAuditServiceService,
        implementation: createAccessAuditService({
          pool: store.pool,
          regionId: config.IDENTITY_REGION_ID,
          verifier,
          logger,
        }),
      },
    ],
  });
});
