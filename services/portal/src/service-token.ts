import * as grpc from "@grpc/grpc-js";
import { AuthServiceClient } from "@otmetka/proto/identity/v1/auth_service";
import {
  CLIENT_CHANNEL_DEFAULTS,
  createServiceTokenSource,
  DomainError,
  promiseClient,
} from "@otmetka/service-kit";

/** The portal's service-account token (identity IssueServiceToken), cached until near expiry. */
export function portalServiceTokens(o: {
  address: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
}): { token(): Promise<string>; close(): void } {
  const raw = new AuthServiceClient(
    o.address,
    grpc.credentials.createInsecure(),
    CLIENT_CHANNEL_DEFAULTS,
  );
  const auth = promiseClient(raw);
  const tokens = createServiceTokenSource(async () => {
    if (!o.clientId || !o.clientSecret) {
      throw new DomainError("unavailable", "PORTAL_CLIENT_ID: is required for service calls", {
        field: "PORTAL_CLIENT_ID",
      });
    }
    const r = await auth.issueServiceToken({ clientId: o.clientId, clientSecret: o.clientSecret });
    return { token: r.accessToken, expiresAt: new Date(Date.now() + r.expiresIn * 1000) };
  });
  return { token: () => tokens.token(), close: () => raw.close() };
}
