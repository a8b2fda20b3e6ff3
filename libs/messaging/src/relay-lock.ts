import pg from "pg";

/** Class id of the relay's advisory lock, apart from the event store's (0x45530001). */
export const RELAY_LOCK_CLASS = 0x4d470001;

/** A held session-level advisory lock on its own connection. */
export interface HeldLock {
  /** Aborts when the lock's connection ends: another relay may then hold the lock. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Tries once to take the relay lock named `name` on a new dedicated connection. Session-level,
 * so the server releases it the moment the holder's connection dies (crash, kill -9, network).
 */
export async function tryRelayLock(databaseUrl: string, name: string): Promise<HeldLock | null> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: `otmetka-relay:${name}`,
    // Detect a half-open connection so a standby can take over.
    keepAlive: true,
  });
  const lost = new AbortController();
  client.on("error", () => lost.abort());
  client.on("end", () => lost.abort());
  await client.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>(
      "SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS ok",
      [RELAY_LOCK_CLASS, name],
    );
    if (!rows[0]?.ok) {
      await client.end();
      return null;
    }
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
  return {
    lost: lost.signal,
    release: async () => {
      await client.end().catch(() => {});
    },
  };
}
