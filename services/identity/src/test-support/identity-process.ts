import { fileURLToPath } from "node:url";
import { freePort, type ServiceProcess, startServiceProcess } from "@otmetka/testing";

export type IdentityProcess = ServiceProcess;

/** The bootstrap admin of process tests. */
export const PROCESS_ADMIN = { username: "admin", password: "process-admin-password-1" };

/** Starts identity's main.ts as a real process, with `env` over a clean base. */
export function startIdentityProcess(env: Record<string, string>): IdentityProcess {
  return startServiceProcess({
    name: "identity",
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env,
  });
}

/**
 * Variables for a process test's auth: a free JWKS port (identity verifies its callers
 * against it) and the bootstrap admin, so the test can log in (PROCESS_ADMIN).
 */
export async function authEnv(): Promise<Record<string, string>> {
  const httpPort = await freePort();
  return {
    IDENTITY_HTTP_HOST: "127.0.0.1",
    IDENTITY_HTTP_PORT: String(httpPort),
    AUTH_JWKS_URL: `http://127.0.0.1:${httpPort}/.well-known/jwks.json`,
    IDENTITY_BOOTSTRAP_ADMIN_USERNAME: PROCESS_ADMIN.username,
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: PROCESS_ADMIN.password,
  };
}
