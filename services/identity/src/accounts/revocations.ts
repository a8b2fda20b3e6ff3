import type { NatsConnection } from "@nats-io/transport-node";
import {
  type ConsumedEvent,
  EventConsumer,
  InvalidMessagingArgument,
  type MessagingNames,
  openRevocationsBucket,
  REVOCATION_TTL_MS,
  type RetryPolicy,
  type Revocation,
  type RevocationReason,
  type RevocationsBucket,
  revokeAccess,
  revokeSession,
} from "@otmetka/messaging";
import type { Logger } from "@otmetka/service-kit";
import { decodeEvent, EVENT_TYPE_PREFIX } from "../domain/events.js";

/**
 * Identity's events after which the account's access tokens already issued must stop working,
 * and the reason recorded. ErasePerson writes AccountDeleted for each account of the person,
 * UnassignStaffFromSchool a RoleRevoked for each role lost there. Not RoleGranted or
 * AccountEnabled: they add rights.
 */
const REVOKING: Partial<Record<string, RevocationReason>> = {
  [`${EVENT_TYPE_PREFIX}AccountDisabled`]: "disabled",
  [`${EVENT_TYPE_PREFIX}AccountDeleted`]: "deleted",
  [`${EVENT_TYPE_PREFIX}RoleRevoked`]: "roles_changed",
};

/**
 * How long after an event's recorded time its revocation starts. `recorded_at` is when the
 * command's transaction began (PostgreSQL's now()), not when it committed: a token refreshed
 * in between read the old grants and got a later `iat`, and would escape a revocation at the
 * recorded time. Commands commit within milliseconds and the clocks of PostgreSQL and identity
 * agree far better than this, so the leeway covers both; its price is that a token refreshed
 * within it after a revocation is refused once more (the client refreshes again).
 */
export const REVOCATION_LEEWAY_MS = 2000;

/** The revocation an event calls for, from the event's recorded time; undefined for the others. */
export function revocationOf(event: {
  type: string;
  data: unknown;
  time: string;
}): { accountId: string; revocation: Revocation } | undefined {
  const reason = REVOKING[event.type];
  if (!reason) return undefined;
  const e = decodeEvent(event);
  const accountId =
    e.name === "AccountDisabled" || e.name === "AccountDeleted" || e.name === "RoleRevoked"
      ? e.value.accountId
      : "";
  return {
    accountId,
    revocation: { revokedAt: Date.parse(event.time) + REVOCATION_LEEWAY_MS, reason },
  };
}

/**
 * Puts the entry that ends the access tokens of one session (refresh family; the tokens'
 * `sid`), leaving the account's other sessions alone: Logout, and a family revoked because a
 * refresh token was used twice. `endedAt` is when the family ended, as committed (its
 * `revoked_at`): no token of it is signed after. Callers put it after that commit, holding no
 * connection or row lock while NATS answers (or times out). The leeway covers clock skew between identity instances
 * (the token may have been signed by another); since the family never signs again it costs
 * nothing. Repeating it with the same `endedAt` writes nothing.
 */
export async function revokeSessionAccess(
  bucket: RevocationsBucket,
  family: { accountId: string; familyId: string },
  endedAt: Date,
  reason: "logout" | "refresh_reused",
): Promise<void> {
  await revokeSession(
    bucket,
    { accountId: family.accountId, sessionId: family.familyId },
    { revokedAt: endedAt.getTime() + REVOCATION_LEEWAY_MS, reason },
  );
}

/**
 * Whether a session (refresh family) that ended at `endedAt` may still have an access token a
 * verifier accepts, so that its entry is needed. Its tokens were signed by its end (plus the
 * leeway across instances) and live at most the longest IDENTITY_ACCESS_TOKEN_TTL_SECONDS
 * (3600 s) — not the current setting: lowering it does not shorten tokens already signed —
 * and verifiers allow 5 s of clock tolerance. The bucket's TTL (3600 s + 60 s) covers all of it.
 */
export function sessionMayHaveValidTokens(endedAt: Date, now: Date): boolean {
  return endedAt.getTime() + REVOCATION_TTL_MS > now.getTime();
}

export interface RevocationWriter {
  bucket: RevocationsBucket;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/**
 * A failed write is tried again in place until it succeeds (every 5 s after the first few),
 * never dead-lettered: the consumer's default (5 attempts, about 11 s) would drop an account's
 * revocation for good — and park its stream, holding back its later ones — after a JetStream
 * leader election or a few request timeouts, leaving its tokens valid until they expire. Only
 * this partition waits meanwhile, as every write to the bucket would fail anyway.
 */
export const REVOCATION_WRITE_RETRY: RetryPolicy = {
  maxDeliver: Number.MAX_SAFE_INTEGER,
  backoffMs: [100, 500, 1000, 2000, 5000],
};

/** Durable consumer of identity's own stream: `<prefix>_identity-revocations-pNN`. */
export const REVOCATIONS_DURABLE = "identity-revocations";

/**
 * Writes the revocation list from identity's committed events, as published by the relay:
 * nothing is written outside the command's transaction, and a crash only delays the entry
 * (the event is redelivered; revokeAccess keeps the latest time, so a repeat writes nothing).
 * Every identity instance runs it; the partitions are shared (EventConsumer).
 */
export async function startRevocationWriter(o: {
  nc: NatsConnection;
  names: MessagingNames;
  logger: Logger;
  bucket?: RevocationsBucket;
}): Promise<RevocationWriter> {
  const bucket = o.bucket ?? (await openRevocationsBucket(o.nc, o.names));
  const consumer = await new EventConsumer({
    nc: o.nc,
    names: o.names,
    context: "identity",
    durable: REVOCATIONS_DURABLE,
    retry: REVOCATION_WRITE_RETRY,
    handler: async (event: ConsumedEvent) => {
      const r = revocationOf(event);
      if (!r) return;
      try {
        await revokeAccess(bucket, r.accountId, r.revocation);
      } catch (err) {
        // No account id or no time in the event: no retry can write it.
        if (!(err instanceof InvalidMessagingArgument)) throw err;
        o.logger.error(
          { err, eventId: event.eventId },
          "revocation event has no account id or time: not written",
        );
      }
    },
    onError: (err, where) => o.logger.warn({ err, where }, "revocation writer error (retried)"),
  }).start();
  return { bucket, consumer, stop: () => consumer.stop() };
}
