import * as grpc from "@grpc/grpc-js";
import { AuthServiceClient } from "@otmetka/proto/identity/v1/auth_service";
import { CLIENT_CHANNEL_DEFAULTS, promiseClient } from "@otmetka/service-kit";
import type { AccountRoles } from "./admin-service.js";

/**
 * Account roles from identity's GetAccount, called with the admin's own token (identity lets
 * only PLATFORM_ADMIN read another account). NOT_FOUND → null; anything else fails the call.
 */
export function identityAccountRoles(address: string): { roles: AccountRoles; close(): void } {
  const raw = new AuthServiceClient(
    address,
    grpc.credentials.createInsecure(),
    CLIENT_CHANNEL_DEFAULTS,
  );
  const auth = promiseClient(raw);
  return {
    async roles(accountId, md) {
      const forward = new grpc.Metadata();
      const token = md.get("authorization")[0];
      if (token) forward.set("authorization", String(token));
      try {
        const a = await auth.getAccount({ accountId }, forward);
        return a.grants.map((g) => g.role);
      } catch (err) {
        if ((err as { code?: number }).code === grpc.status.NOT_FOUND) return null;
        throw err;
      }
    },
    close: () => raw.close(),
  };
}
