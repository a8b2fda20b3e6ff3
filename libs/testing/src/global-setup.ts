import { dropStaleTestDatabases } from "./database.js";
import { resolveServers } from "./servers.js";

/**
 * Vitest global setup: fail the whole run at once, with one clear message, when the servers
 * are missing; and drop databases that killed runs left behind hours ago.
 */
export default async function setup(): Promise<void> {
  const servers = await resolveServers();
  try {
    await dropStaleTestDatabases(servers.databaseUrl);
  } finally {
    await servers.stop();
  }
}
