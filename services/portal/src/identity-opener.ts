import * as grpc from "@grpc/grpc-js";
import { AuthServiceClient } from "@otmetka/proto/identity/v1/auth_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { createServiceTokenSource, DomainError, promiseClient } from "@otmetka/service-kit";
import type { PortalIdOpener } from "./feed/projection.js";

/**
 * Opens PortalIdAssigned's sealed portal id with identity's DecryptForPerson, as the portal's
 * service account. An erased pupil's key is gone: identity answers NOT_FOUND or
 * FAILED_PRECONDITION and the id is treated as unknown (null). Anything else (identity down,
 * no credentials) throws, so the projection retries the batch rather than skip the id.
 */
export function identityPortalIdOpener(o: {
  address: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
}): { open: PortalIdOpener; close(): void } {
  const creds = grpc.credentials.createInsecure();
  const identityClient = new IdentityServiceClient(o.address, creds);
  const authClient = new AuthServiceClient(o.address, creds);
  const identity = promiseClient(identityClient);
  const auth = promiseClient(authClient);
  const tokens = createServiceTokenSource(async () => {
    if (!o.clientId || !o.clientSecret) {
      throw new DomainError("unavailable", "PORTAL_CLIENT_ID: is required to open portal ids", {
        field: "PORTAL_CLIENT_ID",
      });
    }
    const r = await auth.issueServiceToken({ clientId: o.clientId, clientSecret: o.clientSecret });
    return { token: r.accessToken, expiresAt: new Date(Date.now() + r.expiresIn * 1000) };
  });
  return {
    async open(personId, ciphertextBase64) {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${await tokens.token()}`);
      try {
        const r = await identity.decryptForPerson(
          { personId, ciphertext: Buffer.from(ciphertextBase64, "base64") },
          md,
        );
        return Buffer.from(r.plaintext).toString("utf8");
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === grpc.status.NOT_FOUND || code === grpc.status.FAILED_PRECONDITION) return null;
        throw err;
      }
    },
    close() {
      identityClient.close();
      authClient.close();
    },
  };
}
