import { setTimeout as sleep } from "node:timers/promises";
import { type EventStore, START } from "@otmetka/eventstore";
import { PersonalData } from "@otmetka/proto/identity/v1/identity_service";
import { aadOf, open } from "../crypto/aead.js";
import { nameTokens } from "../crypto/blind-index.js";
import type { MasterKeyring } from "../crypto/key-config.js";
import { findDataKey } from "../crypto/person-keys.js";
import { nameText } from "../domain/personal-data.js";
import { applyToReadModels } from "./read-models.js";

/** Tables derived from the log alone. person_keys is not one of them: it is the key store. */
export const READ_MODEL_TABLES = [
  "municipalities",
  "schools",
  "people",
  "class_groups",
  "enrollments",
  "subgroups",
  "subgroup_members",
  "guardian_links",
  "staff_schools",
  "staff_schools_left",
  "person_name_index",
  "account_grants",
  "disabled_accounts",
];

/**
 * Drops the read models and replays the whole log into them, then rebuilds the name index
 * from the (still decryptable) personal data. Run it with the service stopped: commands
 * committed meanwhile would be missed. Erased people stay erased: their ciphertext is in the
 * log, but without a key row nothing of it can be read or indexed.
 */
export async function rebuildReadModels(
  store: EventStore,
  keys: { masterKeys: MasterKeyring; blindIndexKey: Buffer },
): Promise<{ events: number }> {
  await store.pool.query(`TRUNCATE ${READ_MODEL_TABLES.join(", ")}`);
  // readAll returns only events below the server-wide xmin, so an empty page can mean "other
  // transactions on the server are still open", not "the end": replay until every event of
  // the (static, service stopped) log is applied.
  const { rows } = await store.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM eventstore.events",
  );
  const total = rows[0]!.n;
  let checkpoint = START;
  let events = 0;
  while (events < total) {
    const page = await store.readAll(checkpoint, 1000);
    if (page.events.length === 0) {
      await sleep(50);
      continue;
    }
    const client = await store.pool.connect();
    try {
      await client.query("BEGIN");
      for (const e of page.events) await applyToReadModels(client, e);
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    events += page.events.length;
    checkpoint = page.checkpoint;
  }
  await reindexNames(store, keys);
  return { events };
}

async function reindexNames(
  store: EventStore,
  keys: { masterKeys: MasterKeyring; blindIndexKey: Buffer },
): Promise<void> {
  const { rows } = await store.pool.query<{
    person_id: string;
    personal_data: Buffer;
    school_ids: string[];
  }>(
    `SELECT p.person_id, p.personal_data,
            array(SELECT p.school_id
                  UNION SELECT e.school_id FROM enrollments e WHERE e.person_id = p.person_id
                  UNION SELECT s.school_id FROM staff_schools s WHERE s.person_id = p.person_id)::text[] AS school_ids
     FROM people p WHERE NOT p.erased AND p.personal_data IS NOT NULL`,
  );
  for (const row of rows) {
    const key = await findDataKey(store.pool, keys.masterKeys, row.person_id);
    const plain = key && open(key, aadOf.personalData(row.person_id), row.personal_data);
    if (!plain) continue;
    const name = nameText(PersonalData.decode(plain));
    for (const schoolId of row.school_ids) {
      for (const token of nameTokens(keys.blindIndexKey, schoolId, name)) {
        await store.pool.query(
          "INSERT INTO person_name_index (school_id, token, person_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
          [schoolId, token, row.person_id],
        );
      }
    }
  }
}
