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

/** Identity's page sizes (its ListAccounts refuses others, naming its own `page_size`). */
const MAX_PAGE_SIZE = 1000;
// Identity's tokens are short base64url; bounded so junk (megabytes of it) never reaches it.
const PAGE_TOKEN = /^[A-Za-z0-9_=-]{1,1024}$/;

/** The page asked for, checked: 0 is identity's default size, "" the first page. */
function pageOf(a: { pageSize?: number | null; pageToken?: string | null }) {
  const size = a.pageSize ?? 0;
  if (a.pageSize !== null && a.pageSize !== undefined && (size < 1 || size > MAX_PAGE_SIZE))
    throw gqlError(
      "BAD_USER_INPUT",
      `pageSize: must be 1-${MAX_PAGE_SIZE} (leave it out for 100)`,
      "pageSize",
    );
  const token = a.pageToken ?? "";
  if (token !== "" && !PAGE_TOKEN.test(token))
    throw gqlError(
      "BAD_USER_INPUT",
      "pageToken: must be the nextPageToken of the previous page",
      "pageToken",
    );
  return { pageSize: size, pageToken: token };
}

/** Query.accounts: one page of identity's ListAccounts, asked with the caller's own token. */
export async function accountsOf(
  ctx: GatewayContext,
  a: { schoolId: string; pageSize?: number | null; pageToken?: string | null },
) {
  const auth = ctx.backends?.auth;
  if (!auth) throw gqlError("UNAVAILABLE", "accounts: identity is not connected");
  const page = await auth.listAccounts(
    { schoolId: id("schoolId", a.schoolId), personId: "", ...pageOf(a) },
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
