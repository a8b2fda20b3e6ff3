import { loadConfigOrExit } from "@otmetka/service-kit/config";
import { identityConfigSchema } from "./config.js";
import { openIdentityDatabase } from "./db/open-database.js";
import { rebuildReadModels } from "./projections/rebuild.js";

/** `npm run rebuild`: replays the log into identity's read models (service stopped). */
const config = loadConfigOrExit(identityConfigSchema);
const store = await openIdentityDatabase(config.DATABASE_URL);
try {
  const { events } = await rebuildReadModels(store, {
    masterKeys: config.IDENTITY_MASTER_KEYS,
    blindIndexKey: config.IDENTITY_BLIND_INDEX_KEY,
  });
  process.stdout.write(`identity read models rebuilt from ${events} events\n`);
} finally {
  await store.close();
}
