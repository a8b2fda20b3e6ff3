import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { nkeys } from "@nats-io/transport-node";
import { DomainError } from "@otmetka/service-kit";
import type pg from "pg";
import type { PortalNames } from "../stream.js";
import {
  checkSubscriberName,
  provisionSubscriberConsumer,
  type StartPosition,
} from "./consumers.js";
import { authorizationConfig, type NatsUser, subscriberPermissions } from "./permissions.js";

export interface SubscriberRegistration {
  name: string;
  /** The identity account holding PORTAL_SUBSCRIBER that this subscriber acts for. */
  accountId: string;
  transport: "nats" | "webhook";
  /** NATS subscribers: their NKey user public key (`U...`). */
  nkey?: string;
  webhookUrl?: string;
  start?: StartPosition;
}

function checkNkey(nkey: string | undefined): string {
  try {
    if (nkey?.startsWith("U") && nkeys.fromPublic(nkey)) return nkey;
  } catch {
    // falls through to the refusal
  }
  throw new DomainError("invalid_argument", "nkey: must be an NKey user public key (U...)", {
    field: "nkey",
  });
}

/**
 * Records a subscriber and creates its durable consumer (a backfill by default). NATS
 * subscribers then get a user in the server's authorization (`subscriberAuthorization`).
 */
export async function registerSubscriber(
  pool: pg.Pool,
  jsm: JetStreamManager,
  names: PortalNames,
  r: SubscriberRegistration,
): Promise<void> {
  const name = checkSubscriberName(r.name);
  if (!r.accountId.trim()) {
    throw new DomainError("invalid_argument", "account_id: is required", { field: "account_id" });
  }
  const nkey = r.transport === "nats" ? checkNkey(r.nkey) : null;
  if (r.transport === "webhook" && !/^https?:\/\//.test(r.webhookUrl ?? "")) {
    throw new DomainError("invalid_argument", "webhook_url: must be an http(s) URL", {
      field: "webhook_url",
    });
  }
  const inserted = await pool.query(
    `INSERT INTO portal.subscribers (name, transport, account_id, webhook_url, nkey)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING`,
    [name, r.transport, r.accountId, r.webhookUrl ?? null, nkey],
  );
  if (inserted.rowCount === 0) {
    throw new DomainError("failed_precondition", `subscriber: ${name} is already registered`, {
      field: "subscriber",
    });
  }
  await provisionSubscriberConsumer(jsm, names, name, r.start ?? { from: "backfill" });
}

/** The checked name of a registered subscriber; NOT_FOUND when it is not registered. */
export async function requireRegistered(pool: pg.Pool, subscriber: string): Promise<string> {
  const name = checkSubscriberName(subscriber);
  const r = await pool.query("SELECT 1 FROM portal.subscribers WHERE name = $1", [name]);
  if (r.rowCount === 0) {
    throw new DomainError("not_found", `subscriber: ${name} is not registered`, {
      field: "subscriber",
    });
  }
  return name;
}

/**
 * Removes a registered subscriber: its durable consumer first (a failure leaves it registered,
 * so the call can be repeated), then its record and dead letters in one statement. Answers
 * how many dead letters went with it; NOT_FOUND when it is not registered.
 */
export async function unregisterSubscriber(
  pool: pg.Pool,
  jsm: JetStreamManager,
  names: PortalNames,
  subscriber: string,
): Promise<number> {
  const name = await requireRegistered(pool, subscriber);
  try {
    await jsm.consumers.delete(names.stream, names.durable(name));
  } catch (err) {
    // Already gone (a repeated call after a failure below) is what we want.
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound))
      throw err;
  }
  // One statement: the record and its dead letters go together or not at all.
  const dropped = await pool.query<{ n: number }>(
    `WITH letters AS (DELETE FROM portal.webhook_dead_letters WHERE subscriber = $1 RETURNING 1),
          subscriber AS (DELETE FROM portal.subscribers WHERE name = $1)
     SELECT count(*)::int AS n FROM letters`,
    [name],
  );
  return dropped.rows[0]?.n ?? 0;
}

/** The nats-server `authorization` block: the service user and every NATS subscriber's NKey. */
export async function subscriberAuthorization(
  pool: pg.Pool,
  names: PortalNames,
  serviceUser: { user: string; password: string },
): Promise<string> {
  const rows = await pool.query<{ name: string; nkey: string }>(
    "SELECT name, nkey FROM portal.subscribers WHERE transport = 'nats' ORDER BY name",
  );
  const users: NatsUser[] = [
    serviceUser,
    ...rows.rows.map((r) => ({ nkey: r.nkey, permissions: subscriberPermissions(names, r.name) })),
  ];
  return authorizationConfig(users);
}
