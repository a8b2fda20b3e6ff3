import * as grpc from "@grpc/grpc-js";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { CLIENT_CHANNEL_DEFAULTS, promiseClient } from "@otmetka/service-kit";
import type { PortalIdOpener } from "./feed/projection.js";

/**
 * Opens PortalIdAssigned's sealed portal id with identity's DecryptForPerson, as the portal's
 * service account. An erased pupil's key is gone: identity answers NOT_FOUND or
 * FAILED_PRECONDITION and the id is treated as unknown (null). Anything else (identity down,
 * no credentials) throws, so the projection retries the batch rather than skip the id.
 */
export function identityPortalIdOpener(o: {
  address: string;
  /** The portal's service token (portalServiceTokens). */
  token: () => Promise<string>;
}): { open: PortalIdOpener; close(): void } {
  const identityClient = new IdentityServiceClient(
    o.address,
    grpc.credentials.createInsecure(),
    CLIENT_CHANNEL_DEFAULTS,
  );
  const identity = promiseClient(identityClient);
  return {
    async open(personId, ciphertextBase64) {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${await o.token()}`);
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
    },
  };
}
