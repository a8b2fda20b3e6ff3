import type { AccountSummary } from "@otmetka/proto/identity/v1/auth_service";
import { bearerMetadata } from "@otmetka/service-kit";
import type { GatewayContext, PersonRef } from "../context.js";
import { gqlError } from "../http/errors.js";
import { id } from "./inputs.js";

/** An account as the schema shows it; `personId` feeds the username's policy. */
export interface AccountNode {
  id: string;
  personId: string;
  username: string;
  roles: string[];
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

const claimOf = (g: { role: string; scopeKind: string; scopeId: string }) =>
  g.scopeKind === "" ? g.role : `${g.role}@${g.scopeKind}:${g.scopeId}`;

const node = (a: AccountSummary): AccountNode => ({
  id: a.accountId,
  personId: a.personId,
  username: a.username,
  roles: a.grants.map(claimOf),
  disabled: a.disabled,
  createdAt: a.createdAt?.toISOString() ?? "",
  lastLoginAt: a.lastLoginAt?.toISOString() ?? null,
});

/** Query.accounts: one page of identity's ListAccounts, asked with the caller's own token. */
export async function accountsOf(
  ctx: GatewayContext,
  a: { schoolId: string; pageSize?: number | null; pageToken?: string | null },
) {
  const auth = ctx.backends?.auth;
  if (!auth) throw gqlError("UNAVAILABLE", "accounts: identity is not connected");
  const page = await auth.listAccounts(
    {
      schoolId: id("schoolId", a.schoolId),
      personId: "",
      pageSize: a.pageSize ?? 0,
      pageToken: a.pageToken ?? "",
    },
    bearerMetadata(ctx.caller.token ?? ""),
  );
  return {
    accounts: page.accounts.map(node),
    nextPageToken: page.nextPageToken === "" ? null : page.nextPageToken,
  };
}

export const accountResolvers = {
  person: (a: AccountNode): PersonRef | null => (a.personId ? { id: a.personId } : null),
};
