// Talking to identity from the launcher and the seed: admin login, service accounts.
import * as grpc from "@grpc/grpc-js";
import { AuthServiceClient } from "@otmetka/proto/identity/v1/auth_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { promiseClient } from "@otmetka/service-kit";
import { layout } from "./layout.mjs";

export function identityClients(
  address = process.env.IDENTITY_GRPC_ADDRESS ?? layout.addresses.IDENTITY_GRPC_ADDRESS,
) {
  const creds = grpc.credentials.createInsecure();
  const authClient = new AuthServiceClient(address, creds);
  const identityClient = new IdentityServiceClient(address, creds);
  return {
    auth: promiseClient(authClient),
    identity: promiseClient(identityClient),
    close() {
      authClient.close();
      identityClient.close();
    },
  };
}

export function bearer(token) {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
}

export async function adminToken(auth, secrets) {
  const r = await auth.login({
    username: secrets.IDENTITY_BOOTSTRAP_ADMIN_USERNAME ?? "admin",
    password: secrets.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD,
  });
  return r.tokens.accessToken;
}

/**
 * A service account for each service that calls another as itself (today the portal opening
 * sealed portal ids). Made once and kept with the other local secrets, so a restart reuses it.
 */
export async function ensureServiceAccounts(secrets, save) {
  const wanted = [["portal", "PORTAL_CLIENT_ID", "PORTAL_CLIENT_SECRET"]];
  const missing = wanted.filter(([, id]) => !secrets[id]);
  if (missing.length === 0) return;
  const c = identityClients();
  try {
    const md = bearer(await adminToken(c.auth, secrets));
    for (const [name, id, secret] of missing) {
      const r = await c.auth.createServiceAccount({ serviceName: name }, md);
      secrets[id] = r.clientId;
      secrets[secret] = r.clientSecret;
    }
    save(secrets);
  } finally {
    c.close();
  }
}
