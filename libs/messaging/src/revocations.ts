import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import { InvalidMessagingArgument } from "./errors.js";
import { REVOCATION_TTL_MS } from "./kv-buckets.js";

/**
 * Access revocations: identity puts one entry per account, or per session of an account,
 * whose access tokens issued until `revokedAt` must stop working (bucket
 * `openRevocationsBucket`). Keys: the account id (the tokens' `sub`) for every token of the
 * account; `session.<account id>.<session id>` (the tokens' `sid`: identity's refresh family)
 * for the tokens of one login. The account id in a session's key lets a verifier skip every
 * token of an account with no entry of either kind without decoding it. Verifiers refuse a
 * token whose `iat` (seconds) * 1000 <= the later `revokedAt` of its account's and its
 * session's entries. Ids and a reason code only: no personal data.
 */
/** The bucket's handle (nats.js KV), for packages that do not depend on @nats-io/kv. */
export type RevocationsBucket = KV;

/** Account entries: the first four; session entries: `logout`, `refresh_reused`. */
export type RevocationReason =
  | "disabled"
  | "deleted"
  | "roles_changed"
  | "password_changed"
  | "logout"
  | "refresh_reused";

export interface Revocation {
  /** Milliseconds since the epoch: tokens issued until then stop working. */
  revokedAt: number;
  reason: RevocationReason;
}

/** Ids are UUIDs; anything else is refused rather than encoded (KV keys are subjects). */
const ID = /^[A-Za-z0-9_-]{1,200}$/;
const SESSION_PREFIX = "session.";
const CAS_ATTEMPTS = 10;

function idOf(field: "accountId" | "sessionId", id: string): string {
  if (!ID.test(id)) {
    throw new InvalidMessagingArgument(field, "must be 1-200 of A-Z a-z 0-9 _ -");
  }
  return id;
}

/** The key of one session's entry: `session.<accountId>.<sessionId>`. */
export function sessionRevocationKey(accountId: string, sessionId: string): string {
  return `${SESSION_PREFIX}${idOf("accountId", accountId)}.${idOf("sessionId", sessionId)}`;
}

/** What a key revokes; undefined for a key of neither form (ignored by readers). */
function targetOf(key: string): { accountId: string; sessionId?: string } | undefined {
  if (ID.test(key)) return { accountId: key };
  if (!key.startsWith(SESSION_PREFIX)) return undefined;
  const [accountId = "", sessionId = "", ...rest] = key.slice(SESSION_PREFIX.length).split(".");
  return rest.length === 0 && ID.test(accountId) && ID.test(sessionId)
    ? { accountId, sessionId }
    : undefined;
}

function decodeRevocation(e: KvEntry): Revocation | undefined {
  if (e.operation !== "PUT") return undefined;
  try {
    const v = e.json<Partial<Revocation>>();
    return typeof v.revokedAt === "number" && Number.isFinite(v.revokedAt)
      ? { revokedAt: v.revokedAt, reason: v.reason as RevocationReason }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts the revocation unless the account's entry already revokes as late or later: `revokedAt`
 * never moves backwards, and a repeat (a redelivered event) writes nothing. Compare-and-set on
 * the entry's revision, so concurrent writers keep the maximum. True when it wrote.
 */
export async function revokeAccess(
  kv: KV,
  accountId: string,
  revocation: Revocation,
): Promise<boolean> {
  return putLatest(kv, idOf("accountId", accountId), revocation);
}

/**
 * As revokeAccess, for the tokens of one session of the account only (a logout): its other
 * sessions keep working. Same compare-and-set: the session's latest `revokedAt` stays.
 */
export async function revokeSession(
  kv: KV,
  target: { accountId: string; sessionId: string },
  revocation: Revocation,
): Promise<boolean> {
  return putLatest(kv, sessionRevocationKey(target.accountId, target.sessionId), revocation);
}

async function putLatest(kv: KV, key: string, revocation: Revocation): Promise<boolean> {
  if (!Number.isFinite(revocation.revokedAt) || revocation.revokedAt <= 0) {
    throw new InvalidMessagingArgument("revokedAt", "must be milliseconds since the epoch");
  }
  const value = JSON.stringify({ revokedAt: revocation.revokedAt, reason: revocation.reason });
  for (let attempt = 1; ; attempt++) {
    const current = await kv.get(key);
    const held = current ? decodeRevocation(current) : undefined;
    if (held && held.revokedAt >= revocation.revokedAt) return false;
    try {
      // create also succeeds over a deleted or purged key (nats.js checks the marker).
      if (current && current.operation === "PUT") await kv.update(key, value, current.revision);
      else await kv.create(key, value);
      return true;
    } catch (err) {
      // Another writer got in between: read again and compare with theirs.
      const lost =
        err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
      if (!lost || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
}

/** The claims of a token that the list needs, read only for an account with an entry. */
export interface RevocableToken {
  /** The token's `iat` (seconds). */
  iat: number;
  /** The token's `sid` (its session); tokens issued before sessions were named have none. */
  sid?: string;
}

/** The current revocations, kept up to date by a watch. */
export interface RevocationList {
  /** When the account's tokens were last revoked (ms since the epoch), if within the bucket's TTL. */
  revokedAt(accountId: string): number | undefined;
  /** When the tokens of one session of the account were revoked, if within the bucket's TTL. */
  sessionRevokedAt(accountId: string, sessionId: string): number | undefined;
  /**
   * Whether a token of `accountId` with `claims()` is revoked: issued (`iat`) no later than its
   * account's or its session's revocation. The claims are asked for only when the account has
   * an entry of either kind, which it rarely has: a verifier need not decode every token.
   */
  isRevoked(accountId: string, claims: () => RevocableToken): boolean;
  stop(): void;
}

export interface WatchRevocationsOptions {
  /** A failed watch is reported here and started again after `restartDelayMs` (default 1 s). */
  onError?: (err: unknown) => void;
  restartDelayMs?: number;
  /** For tests: the clock that drops entries older than the bucket's TTL. */
  now?: () => number;
}

/**
 * Loads the bucket's current entries and follows its updates (nats.js KV watch, last value
 * per key first). Resolves once the entries present at the start are loaded, so a verifier
 * does not accept revoked tokens while it starts. Entries the server expires send no
 * notification: they are dropped here after the same TTL.
 */
export async function watchRevocations(
  kv: KV,
  options: WatchRevocationsOptions = {},
): Promise<RevocationList> {
  const now = options.now ?? Date.now;
  type Held = { revocation: Revocation; writtenAt: number };
  const accounts = new Map<string, Held>();
  // By account first: an account without entries is answered without reading its token.
  const sessions = new Map<string, Map<string, Held>>();
  let stopped = false;
  let stopWatch: (() => void) | undefined;

  const dropSession = (accountId: string, sessionId: string) => {
    const own = sessions.get(accountId);
    own?.delete(sessionId);
    if (own?.size === 0) sessions.delete(accountId);
  };
  const apply = (e: KvEntry) => {
    const target = targetOf(e.key);
    if (!target) return;
    const revocation = decodeRevocation(e);
    const held = revocation && { revocation, writtenAt: e.created.getTime() };
    const { accountId, sessionId } = target;
    if (sessionId === undefined) {
      if (held) accounts.set(accountId, held);
      else accounts.delete(accountId);
    } else if (held) {
      const own = sessions.get(accountId) ?? new Map<string, Held>();
      sessions.set(accountId, own.set(sessionId, held));
    } else dropSession(accountId, sessionId);
  };

  const restartDelayMs = options.restartDelayMs ?? 1000;
  let loadedOnce = false;
  /**
   * Starts a watch; on the first start resolves once the current entries are loaded, on a
   * restart once the watch is created. A failed restart (NATS still unreachable) is tried
   * again after the delay, as long as it takes: otherwise the list would silently stop
   * following the bucket for the rest of the process's life.
   */
  const follow = async (initial: boolean): Promise<void> => {
    let resolveReady!: () => void;
    let failed!: (err: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      failed = reject;
    });
    const loaded = () => {
      loadedOnce = true;
      resolveReady();
    };
    const w = await kv.watch();
    if (stopped) {
      w.stop();
      return;
    }
    stopWatch = () => w.stop();
    // The watch marks the last of the initial values (and every later one) isUpdate; with no
    // initial values nothing is marked until the next put, so an empty bucket is asked.
    if (initial) void kv.status().then((s) => s.values === 0 && loaded(), failed);
    (async () => {
      for await (const e of w) {
        apply(e);
        if (e.isUpdate) loaded();
      }
      if (!stopped) throw new Error("revocation watch ended");
    })().catch((err: unknown) => {
      failed(err); // before the first load: watchRevocations rejects, nothing restarts
      if (stopped || !loadedOnce) return;
      options.onError?.(err);
      restartLater();
    });
    if (initial) {
      await ready.catch((err: unknown) => {
        w.stop();
        throw err;
      });
    }
  };
  const restartLater = () => {
    setTimeout(() => {
      if (stopped) return;
      follow(false).catch((err: unknown) => {
        if (stopped) return;
        options.onError?.(err);
        restartLater();
      });
    }, restartDelayMs).unref();
  };
  await follow(true);

  const live = (held: Held | undefined, drop: () => void) => {
    if (!held) return undefined;
    if (held.writtenAt + REVOCATION_TTL_MS < now()) {
      drop();
      return undefined;
    }
    return held.revocation.revokedAt;
  };
  const revokedAt = (accountId: string) =>
    live(accounts.get(accountId), () => accounts.delete(accountId));
  const sessionRevokedAt = (accountId: string, sessionId: string) =>
    live(sessions.get(accountId)?.get(sessionId), () => dropSession(accountId, sessionId));
  // Keys read once and never again would otherwise stay for the process's life.
  const sweep = setInterval(() => {
    for (const accountId of accounts.keys()) revokedAt(accountId);
    for (const [accountId, own] of sessions) {
      for (const sessionId of own.keys()) sessionRevokedAt(accountId, sessionId);
    }
  }, REVOCATION_TTL_MS / 4);
  sweep.unref();

  return {
    revokedAt,
    sessionRevokedAt,
    isRevoked(accountId, claims) {
      const account = revokedAt(accountId);
      if (account === undefined && !sessions.has(accountId)) return false;
      const { iat, sid } = claims();
      const session = sid === undefined ? undefined : sessionRevokedAt(accountId, sid);
      // The one rule for both kinds: issued in or before the revocation's millisecond.
      const at = Math.max(account ?? Number.NEGATIVE_INFINITY, session ?? Number.NEGATIVE_INFINITY);
      return iat * 1000 <= at;
    },
    stop() {
      stopped = true;
      clearInterval(sweep);
      stopWatch?.();
    },
  };
}
