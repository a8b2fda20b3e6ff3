import type { Queryable } from "@otmetka/eventstore";
import { unwrapDataKey, wrapDataKey } from "./data-keys.js";
import type { MasterKeyring } from "./key-config.js";

/*
 * The person_keys table: one wrapped data key per person. It is the only mutable home of key
 * material; events, read models, snapshots and NATS carry ciphertext only.
 */

export async function insertDataKey(
  db: Queryable,
  ring: MasterKeyring,
  personId: string,
  dataKey: Buffer,
): Promise<void> {
  const w = wrapDataKey(ring, personId, dataKey);
  await db.query(
    "INSERT INTO person_keys (person_id, master_key_id, wrapped_key) VALUES ($1, $2, $3)",
    [personId, w.masterKeyId, w.wrapped],
  );
}

/** The person's data key, or undefined once erased (or never registered). */
export async function findDataKey(
  db: Queryable,
  ring: MasterKeyring,
  personId: string,
): Promise<Buffer | undefined> {
  const { rows } = await db.query<{ master_key_id: string; wrapped_key: Buffer }>(
    "SELECT master_key_id, wrapped_key FROM person_keys WHERE person_id = $1",
    [personId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return unwrapDataKey(ring, personId, {
    masterKeyId: row.master_key_id,
    wrapped: row.wrapped_key,
  });
}

export async function deleteDataKey(db: Queryable, personId: string): Promise<void> {
  await db.query("DELETE FROM person_keys WHERE person_id = $1", [personId]);
}

/**
 * Rewraps, under the active master key, every data key wrapped by another one, so that a
 * retired master key can be removed from the configuration. Returns how many rows changed.
 * The data keys themselves do not change: no ciphertext needs re-encrypting.
 */
export async function rewrapDataKeys(
  db: Queryable,
  ring: MasterKeyring,
  batchSize = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{
      person_id: string;
      master_key_id: string;
      wrapped_key: Buffer;
    }>(
      `SELECT person_id, master_key_id, wrapped_key FROM person_keys
       WHERE master_key_id <> $1 ORDER BY person_id LIMIT $2`,
      [ring.active.id, batchSize],
    );
    for (const row of rows) {
      const key = unwrapDataKey(ring, row.person_id, {
        masterKeyId: row.master_key_id,
        wrapped: row.wrapped_key,
      });
      const w = wrapDataKey(ring, row.person_id, key);
      // Compare-and-set: an erasure in between wins and the row stays deleted.
      await db.query(
        `UPDATE person_keys SET master_key_id = $2, wrapped_key = $3
         WHERE person_id = $1 AND master_key_id = $4`,
        [row.person_id, w.masterKeyId, w.wrapped, row.master_key_id],
      );
      total++;
    }
    if (rows.length < batchSize) return total;
  }
}
