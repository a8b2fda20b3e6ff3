import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import { InvalidMessagingArgument } from "./errors.js";
import { REVOCATION_TTL_MS } from "./kv-buckets.js";

/**
 * Access revocations: identity puts one entry per account whose access tokens issued until
 * `revokedAt` must stop working (bucket `openRevocationsBucket`, key = account id = the
 * tokens' `sub`); verifiers refuse a token whose `iat` (seconds) * 1000 <= `revokedAt`.
 * Ids and a reason code only: no personal data.
 */
/** The bucket's handle (nats.js KV), for packages that do not depend on @nats-io/kv. */
export type RevocationsBucket = KV;

export type RevocationReason = "disabled" | "deleted" | "roles_changed" | "password_changed";

export interface Revocation {
  /** Milliseconds since the epoch: the time of the event that reduced the account's rights. */
  revokedAt: number;
  reason: RevocationReason;
}

/** Account ids are UUIDs; anything else is refused rather than encoded (KV keys are subjects). */
const KEY = /^[A-Za-z0-9_-]{1,200}$/;
const CAS_ATTEMPTS = 10;

function keyOf(accountId: string): string {
  if (!KEY.test(accountId)) {
    throw new InvalidMessagingArgument("accountId", "must be 1-200 of A-Z a-z 0-9 _ -");
  }
  return accountId;
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
  const key = keyOf(accountId);
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

/** The current revocations, kept up to date by a watch. */
export interface RevocationList {
  /** When the account's tokens were last revoked (ms since the epoch), if within the bucket's TTL. */
  revokedAt(accountId: string): number | undefined;
  /**
   * Whether a token of `accountId` issued at `iatSeconds()` (its `iat` claim) is revoked. The
   * claim is asked for only when the account is on the list, which it rarely is: a verifier
   * need not decode every token.
   */
  isRevoked(accountId: string, iatSeconds: () => number): boolean;
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
  const entries = new Map<string, { revocation: Revocation; writtenAt: number }>();
  let stopped = false;
  let stopWatch: (() => void) | undefined;

  const apply = (e: KvEntry) => {
    const revocation = decodeRevocation(e);
    if (revocation) entries.set(e.key, { revocation, writtenAt: e.created.getTime() });
    else entries.delete(e.key);
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

  const revokedAt = (accountId: string) => {
    const held = entries.get(accountId);
    if (!held) return undefined;
    if (held.writtenAt + REVOCATION_TTL_MS < now()) {
      entries.delete(accountId);
      return undefined;
    }
    return held.revocation.revokedAt;
  };
  // Keys read once and never again would otherwise stay for the process's life.
  const sweep = setInterval(() => {
    for (const key of entries.keys()) revokedAt(key);
  }, REVOCATION_TTL_MS / 4);
  sweep.unref();

  return {
    revokedAt,
    isRevoked(accountId, iatSeconds) {
      const at = revokedAt(accountId);
      return at !== undefined && iatSeconds() * 1000 <= at;
    },
    stop() {
      stopped = true;
      clearInterval(sweep);
      stopWatch?.();
    },
  };
}
