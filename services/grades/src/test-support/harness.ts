import type * as grpc from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { ensureStream, type MessagingNames, messagingNames } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { GradesServiceClient, GradesServiceService } from "@otmetka/proto/grades/v1/grades_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  type ManualClock,
  manualClock,
  promiseClient,
  startGrpcServer,
} from "@otmetka/service-kit";
import {
  eventually,
  grpcError,
  startTestGrpcApi,
  TEST_GRPC_SERVER_OPTIONS,
  type TestServerUrls,
  type TestTokenIssuer,
} from "@otmetka/testing";
import { createGradesService } from "../api/grades-service.js";
import type { GradesDeps } from "../commands/deps.js";
import { JournalStore } from "../commands/journal-store.js";
import { openGradesDatabase } from "../db/open-database.js";
import { FACTS_SCHEMA, gradesFactsProjection } from "../projections/facts.js";
import { FactsReader } from "../projections/facts-queries.js";
import type { SchoolFixture } from "./feed.js";

export interface Harness {
  deps: GradesDeps;
  store: EventStore;
  nc: NatsConnection;
  names: MessagingNames;
  replica: ProjectionRunner;
  clock: ManualClock;
  issuer: TestTokenIssuer;
  server: GrpcServer;
  client: ReturnType<typeof promiseClient<GradesServiceClient>>;
  /** Metadata of a token with these roles (and person id). */
  as(roles: string[], pid?: string): Promise<grpc.Metadata>;
  close(): Promise<void>;
}

/**
 * The grades service in the test process on real PostgreSQL and NATS: the facts replica, the
 * journal store and the gRPC server with real token verification (a test JWKS issuer).
 */
export async function startHarness(env: TestServerUrls): Promise<Harness> {
  const store = await openGradesDatabase(env.databaseUrl);
  const nc = await connect({ servers: env.natsUrl });
  const names = messagingNames(env.natsPrefix);
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names.contextStream("identity"));
  await ensureStream(jsm, names.contextStream("curriculum"));
  const replica = await new ProjectionRunner({
    projection: gradesFactsProjection,
    pool: store.pool,
    nc,
    names,
  }).start();
  const clock = manualClock("2026-09-15T05:00:00Z");
  const deps: GradesDeps = {
    store,
    clock,
    facts: new FactsReader(store.pool),
    journals: new JournalStore(store),
  };
  const logger = createLogger({ service: "grades-test", level: "silent" });
  const api = await startTestGrpcApi((issuer) =>
    startGrpcServer({
      ...TEST_GRPC_SERVER_OPTIONS,
      logger,
      services: [
        {
          definition: GradesServiceService,
          implementation: createGradesService(
            deps,
            createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
            logger,
          ),
        },
      ],
    }),
  );
  return {
    deps,
    store,
    nc,
    names,
    replica,
    clock,
    issuer: api.issuer,
    server: api.server,
    client: promiseClient(api.connect(GradesServiceClient)),
    as: api.as,
    async close() {
      await api.close();
      await replica.stop().catch(() => {});
      await nc.close();
      await store.close();
    },
  };
}

/** Waits until the replica holds the published fixture: its last event (a cancellation) is in. */
export async function fixtureReplicated(h: Harness, f: SchoolFixture): Promise<void> {
  await eventually(async () => {
    const { rows } = await h.store.pool.query<{ status: string }>(
      `SELECT status FROM ${FACTS_SCHEMA}.lessons WHERE lesson_id = $1`,
      [f.lessons.cancelled],
    );
    if (rows[0]?.status !== "CANCELLED") throw new Error("the replica has not caught up yet");
  });
}

/** Waits until the facts replica has a row `SELECT 1 FROM <facts schema>.<from>` finds. */
export async function replicaHas(h: Harness, from: string, params: unknown[]): Promise<void> {
  await eventually(async () => {
    const { rows } = await h.store.pool.query(`SELECT 1 FROM ${FACTS_SCHEMA}.${from}`, params);
    if (rows.length === 0) throw new Error(`the replica has no ${from} yet`);
  });
}

/** A refused call's gRPC code and the rule its details name in brackets (else the details). */
export async function ruleOf(p: Promise<unknown>) {
  const err = await grpcError(p);
  return { code: err.code, rule: /\[([a-z_]+)\]/.exec(err.details)?.[1] ?? err.details };
}

export { eventually, grpcError } from "@otmetka/testing";
