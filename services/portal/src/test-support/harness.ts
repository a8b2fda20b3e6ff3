import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect, type NatsConnection, nkeys } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import { messagingNames, toMessage } from "@otmetka/messaging";
import type { ProjectionRunner } from "@otmetka/projections";
import { type PrivateNats, startPrivateNats } from "@otmetka/testing";
import pg from "pg";
import type { PerformanceSource } from "../feed/performance-source.js";
import type { PortalIdOpener } from "../feed/projection.js";
import type { FeedPublisher } from "../feed/publisher.js";
import { startFeed } from "../feed/start-feed.js";
import { type PortalNames, portalNames } from "../stream.js";
import {
  authorizationConfig,
  type NatsUser,
  subscriberPermissions,
} from "../subscribers/permissions.js";

export const SERVICE_USER = { user: "portal-svc", password: "svc-secret-0123456789" };

/** Stand-in for identity's DecryptForPerson: "sealed:<portal id>" in base64 opens to the id. */
export const sealPortalId = (portalId: string) =>
  Buffer.from(`sealed:${portalId}`).toString("base64");
export const openTestPortalId: PortalIdOpener = async (_person, ct) => {
  const text = Buffer.from(ct, "base64").toString();
  return text.startsWith("sealed:") ? text.slice("sealed:".length) : null;
};

export interface Harness {
  nats: PrivateNats;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  pool: pg.Pool;
  names: PortalNames;
  prefix: string;
  runner: ProjectionRunner;
  publisher: FeedPublisher;
  emit(
    context: "identity" | "curriculum" | "grades",
    type: string,
    streamId: string,
    data: object,
  ): Promise<void>;
  /** The subscriber's NKey seed (what it keeps) and its inbox prefix. */
  subscriberUser(name: string): { seed: Uint8Array; inboxPrefix: string };
  stop(): Promise<void>;
}

/**
 * A private nats-server started with the feed's authorization configuration (the service user
 * and one user per named subscriber), the test database migrated, the feed's projection and
 * publisher running. `emit` plays the upstream relays: it publishes internal events exactly as
 * @otmetka/messaging's relay does.
 */
export async function startHarness(o: {
  databaseUrl: string;
  prefix: string;
  subscribers: string[];
  debounceMs?: number;
  performance?: PerformanceSource;
  deferMs?: number;
  /** Re-check of each published pupil snapshot after this long; default 25 ms, 0 for none. */
  recheckMs?: number;
  onError?: (err: unknown, where: string) => void;
}): Promise<Harness> {
  const names = portalNames(o.prefix);
  const users: NatsUser[] = [SERVICE_USER];
  const seeds = new Map<string, Uint8Array>();
  for (const s of o.subscribers) {
    const kp = nkeys.createUser();
    seeds.set(s, kp.getSeed());
    users.push({ nkey: kp.getPublicKey(), permissions: subscriberPermissions(names, s) });
  }
  const nats = await startPrivateNats({ config: authorizationConfig(users) });
  const nc = await connect({
    servers: nats.url,
    user: SERVICE_USER.user,
    pass: SERVICE_USER.password,
  });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const mnames = messagingNames(o.prefix);
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 6 });
  const feed = await startFeed({
    nc,
    pool,
    prefix: o.prefix,
    openPortalId: openTestPortalId,
    debounceMs: o.debounceMs ?? 20,
    pollMs: 10,
    ...(o.performance ? { performance: o.performance } : {}),
    ...(o.deferMs !== undefined ? { deferMs: o.deferMs } : {}),
    recheckMs: o.recheckMs ?? 25,
    ...(o.onError ? { onError: o.onError } : {}),
  });
  const { runner, publisher } = feed;
  const versions = new Map<string, number>();
  let position = 0;
  return {
    nats,
    nc,
    js,
    jsm,
    pool,
    names,
    prefix: o.prefix,
    runner,
    publisher,
    async emit(context, type, streamId, data) {
      const version = (versions.get(streamId) ?? 0) + 1;
      versions.set(streamId, version);
      position++;
      const d = data as { schoolId?: string; municipalityId?: string };
      const event: RecordedEvent = {
        position,
        transactionId: String(position),
        checkpoint: `${position}:${position}` as never,
        streamId,
        version,
        eventId: crypto.randomUUID(),
        type: `${context}.v1.${type}`,
        schemaVersion: 1,
        storedSchemaVersion: 1,
        data,
        metadata: {} as never,
        recordedAt: new Date(),
      };
      const m = toMessage(event, {
        subjectRoot: mnames.eventRoot(context),
        source: context,
        route: () => ({ schoolId: d.schoolId, municipalityId: d.municipalityId }),
      });
      await js.publish(m.subject, m.payload, { headers: m.headers, msgID: m.msgId });
    },
    subscriberUser(name) {
      return { seed: seeds.get(name) ?? new Uint8Array(), inboxPrefix: names.inboxPrefix(name) };
    },
    async stop() {
      await feed.stop();
      await nc.close();
      await pool.end();
      await nats.dispose();
    },
  };
}
