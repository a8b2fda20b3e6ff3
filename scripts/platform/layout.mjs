// Where a local platform lives: its state folder, database names and ports. The defaults are
// the ones `npm start` documents; the variables let a second platform run beside it (the
// tests/e2e school day, the region-scale seed) without touching the first one's data or ports.
import { join } from "node:path";
import { root } from "../workspaces.mjs";

export const DEFAULT_PORTS = {
  demo: 50050,
  identity: 50051,
  curriculum: 50052,
  grades: 50053,
  reporting: 50054,
  portal: 50055,
  identityHttp: 50061,
  gateway: 4000,
};

/**
 * OTMETKA_STATE_DIR (default `.otmetka/`), OTMETKA_DB_PREFIX (default `otmetka`: databases
 * `otmetka_<service>`), OTMETKA_PORT_OFFSET (added to every port, default 0).
 */
export function platformLayout(env = process.env) {
  const offset = Number(env.OTMETKA_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset) || offset < -40000 || offset > 15000)
    throw new Error(`OTMETKA_PORT_OFFSET: an integer that keeps ports valid, got ${offset}`);
  const dbPrefix = env.OTMETKA_DB_PREFIX ?? "otmetka";
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(dbPrefix))
    throw new Error(`OTMETKA_DB_PREFIX: lower-case letters, digits and _, got ${dbPrefix}`);
  const ports = Object.fromEntries(
    Object.entries(DEFAULT_PORTS).map(([name, port]) => [name, port + offset]),
  );
  const local = (port) => `127.0.0.1:${port}`;
  return {
    stateDir: env.OTMETKA_STATE_DIR ?? join(root, ".otmetka"),
    dbPrefix,
    ports,
    graphqlUrl: `http://127.0.0.1:${ports.gateway}/graphql`,
    jwksUrl: `http://127.0.0.1:${ports.identityHttp}/.well-known/jwks.json`,
    /** gRPC addresses, as the services' and the seed's *_GRPC_ADDRESS variables want them. */
    addresses: {
      IDENTITY_GRPC_ADDRESS: local(ports.identity),
      CURRICULUM_GRPC_ADDRESS: local(ports.curriculum),
      GRADES_GRPC_ADDRESS: local(ports.grades),
      REPORTING_GRPC_ADDRESS: local(ports.reporting),
    },
    /** The port variables of one service. */
    portEnv(service) {
      if (service === "gateway") return { HTTP_PORT: String(ports.gateway) };
      const out = { GRPC_PORT: String(ports[service]) };
      if (service === "identity") out.IDENTITY_HTTP_PORT = String(ports.identityHttp);
      return out;
    },
  };
}

export const layout = platformLayout();
