import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import { ensureStream, type MessagingNames, messagingNames, OutboxRelay } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { manualClock } from "@otmetka/service-kit";
import type { TestServerUrls } from "@otmetka/testing";
import { routeCurriculumEvent } from "../api/event-routing.js";
import type { CurriculumDeps } from "../commands/deps.js";
import { openCurriculumDatabase } from "../db/open-database.js";
import { identityFactsProjection } from "../projections/identity-facts.js";
import { IdentityFacts } from "../projections/identity-facts-queries.js";
import { lessonsProjection } from "../projections/lessons.js";
import { type LessonsReader, LessonsReadModel } from "../projections/lessons-queries.js";

export interface InProcess {
  deps: CurriculumDeps & { lessons: LessonsReader };
  store: EventStore;
  nc: NatsConnection;
  names: MessagingNames;
  replica: ProjectionRunner;
  /** The lessons read model, fed through the outbox relay like in the service. */
  lessonsModel: ProjectionRunner;
  close(): Promise<void>;
}

/** The service's command side and identity replica in the test process, on real servers. */
export async function startInProcess(env: TestServerUrls): Promise<InProcess> {
  const store = await openCurriculumDatabase(env.databaseUrl);
  const nc = await connect({ servers: env.natsUrl });
  const names = messagingNames(env.natsPrefix);
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, names.contextStream("identity"));
  const replica = await new ProjectionRunner({
    projection: identityFactsProjection,
    pool: store.pool,
    nc,
    names,
  }).start();
  const curriculum = names.contextStream("curriculum");
  await ensureStream(jsm, curriculum);
  const relay = new OutboxRelay({
    nc,
    log: store,
    stream: curriculum.name,
    databaseUrl: env.databaseUrl,
    subjectRoot: names.eventRoot("curriculum"),
    source: "curriculum",
    route: routeCurriculumEvent,
  }).start();
  const lessonsModel = await new ProjectionRunner({
    projection: lessonsProjection,
    pool: store.pool,
    nc,
    names,
  }).start();
  const deps = {
    store,
    clock: manualClock(new Date("2026-09-01T03:00:00Z")),
    facts: new IdentityFacts(store.pool),
    lessons: new LessonsReadModel(store.pool),
  };
  return {
    deps,
    store,
    nc,
    names,
    replica,
    lessonsModel,
    async close() {
      await lessonsModel.stop();
      await relay.stop();
      await replica.stop();
      await nc.close();
      await store.close();
    },
  };
}

export { eventually } from "@otmetka/testing";
