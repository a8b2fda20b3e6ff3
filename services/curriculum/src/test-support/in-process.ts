import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { type MessagingNames, messagingNames } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { manualClock } from "@otmetka/service-kit";
import type { CurriculumDeps } from "../commands/deps.js";
import { openCurriculumDatabase } from "../db/open-database.js";
import { identityFactsProjection } from "../projections/identity-facts.js";
import { IdentityFacts } from "../projections/identity-facts-queries.js";

export interface InProcess {
  deps: CurriculumDeps;
  store: EventStore;
  nc: NatsConnection;
  names: MessagingNames;
  replica: ProjectionRunner;
  close(): Promise<void>;
}

/** The service's command side and identity replica in the test process, on real servers. */
export async function startInProcess(env: {
  databaseUrl: string;
  natsUrl: string;
  natsPrefix: string;
}): Promise<InProcess> {
  const store = await openCurriculumDatabase(env.databaseUrl);
  const nc = await connect({ servers: env.natsUrl });
  const names = messagingNames(env.natsPrefix);
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const { ensureStream } = await import("@otmetka/messaging");
  await ensureStream(await jetstreamManager(nc), names.contextStream("identity"));
  const replica = await new ProjectionRunner({
    projection: identityFactsProjection,
    pool: store.pool,
    nc,
    names,
  }).start();
  const deps: CurriculumDeps = {
    store,
    clock: manualClock(new Date("2026-09-01T03:00:00Z")),
    facts: new IdentityFacts(store.pool),
  };
  return {
    deps,
    store,
    nc,
    names,
    replica,
    async close() {
      await replica.stop();
      await nc.close();
      await store.close();
    },
  };
}

/** Polls until `check` stops throwing (replicas catch up asynchronously). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
