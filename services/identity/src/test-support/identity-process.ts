import { fileURLToPath } from "node:url";
import { freePort, type ServiceProcess, startServiceProcess } from "@otmetka/testing";
import { loginOverGrpc } from "./grpc-client.js";

export type IdentityProcess = ServiceProcess;

/** The bootstrap admin of process tests. */
const PROCESS_ADMIN = { username: "admin", password: "process-admin-password-1" };

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
async function authEnv(): Promise<Record<string, string>> {
  const httpPort = await freePort();
  return {
    IDENTITY_HTTP_HOST: "127.0.0.1",
    IDENTITY_HTTP_PORT: String(httpPort),
    AUTH_JWKS_URL: `http://127.0.0.1:${httpPort}/.well-known/jwks.json`,
    IDENTITY_BOOTSTRAP_ADMIN_USERNAME: PROCESS_ADMIN.username,
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: PROCESS_ADMIN.password,
  };
}

export interface ServedIdentity {
  service: IdentityProcess;
  /** `127.0.0.1:<port>` of its gRPC server. */
  address: string;
  /** Where it publishes its JWKS. */
  jwksUrl: string;
  /** An access token of the bootstrap admin (PROCESS_ADMIN). */
  adminToken: string;
}

/**
 * identity's main.ts as a process on a free gRPC port, with `env` (the test environment's and
 * the keys' variables, and any more) and a process test's auth, once it listens and its
 * bootstrap admin has logged in. The caller kills it at the end.
 */
export async function startServedIdentity(env: Record<string, string>): Promise<ServedIdentity> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const auth = await authEnv();
  const service = startIdentityProcess({
    ...env,
    ...auth,
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: String(port),
    SHUTDOWN_GRACE_MS: "100",
  });
  try {
    await service.waitForOutput("grpc server listening", 40_000);
    const adminToken = await loginOverGrpc(address, PROCESS_ADMIN.username, PROCESS_ADMIN.password);
    return { service, address, jwksUrl: auth.AUTH_JWKS_URL as string, adminToken };
  } catch (err) {
    await service.stop("SIGKILL");
    throw err;
  }
}
