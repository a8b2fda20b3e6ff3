import { isJournalOf } from "@otmetka/proto/journal-stream";
import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";
import { type DashboardScopeInput, resolveScope } from "../resolvers/dashboard.js";
import { id } from "../resolvers/inputs.js";
import { pupilOf } from "../resolvers/pupil.js";
import { subgroupOf } from "../resolvers/subgroups.js";
import type { ChangeNotice } from "./notices.js";
import { whileCallerValid } from "./while-caller-valid.js";

/*
 * Live subscriptions over SSE and WebSocket: each yields reporting's change notices for one journal, diary
 * or dashboard (a hint to refetch the query). The field policies (authz/policies.ts) run
 * before `subscribe`, exactly as for the matching queries, and again before each notice
 * (authz/apply.ts, while-allowed.ts).
 */

function notices(ctx: GatewayContext, match: (n: ChangeNotice) => boolean) {
  if (!ctx.notices) throw gqlError("UNAVAILABLE", "subscriptions are not served by this gateway");
  const hub = ctx.notices;
  const { callerAuth: auth, caller } = ctx;
  const stream = () =>
    auth ? whileCallerValid(auth, caller, hub.stream(match), ctx.logger) : hub.stream(match);
  // Counted last, after every await: a refused or failed subscribe holds no slot.
  return ctx.subscriptions ? ctx.subscriptions.hold(caller.accountId, stream) : stream();
}

const asChange = (n: ChangeNotice) => ({ kind: n.kind, id: n.id });

export const subscriptionResolvers = {
  journalChanged: {
    subscribe: async (
      _: unknown,
      a: { classGroupId: string; subjectId: string; subgroupId?: string | null },
      ctx: GatewayContext,
    ) => {
      // Notices are named by grades' journal stream id (of the subgroup, else the class group).
      const owner = a.subgroupId
        ? await subgroupOf(ctx, a.classGroupId, a.subjectId, a.subgroupId)
        : a.classGroupId;
      return notices(ctx, (n) => n.kind === "journal" && isJournalOf(n.id, owner, a.subjectId));
    },
    resolve: asChange,
  },
  diaryChanged: {
    subscribe: async (_: unknown, a: { studentId: string }, ctx: GatewayContext) => {
      // As the diary query: a person who is not a pupil has no diary, so no notice would come.
      const studentId = id("studentId", a.studentId);
      await pupilOf(ctx, studentId);
      return notices(ctx, (n) => n.kind === "diary" && n.id === studentId);
    },
    resolve: asChange,
  },
  dashboardChanged: {
    subscribe: async (_: unknown, a: { scope: DashboardScopeInput }, ctx: GatewayContext) => {
      const scope = await resolveScope(ctx, a.scope);
      // reporting names the region scope "region" and the levels in lower case.
      const kind = `dashboard-${scope.level.toLowerCase()}`;
      const id = scope.level === "REGION" ? "region" : scope.scopeId;
      return notices(ctx, (n) => n.kind === kind && n.id === id);
    },
    resolve: asChange,
  },
};

export const subscriptionTypeDefs = `
"""Live change notices over SSE (accept: text/event-stream) or WebSocket (graphql-transport-ws): refetch the matching query on each."""
type Subscription {
  """Marks, attendance or lessons of the journal changed (any academic year); with subgroupId, of that subgroup's journal."""
  journalChanged(classGroupId: ID!, subjectId: ID!, subgroupId: ID): ChangeNotice!
  """The pupil's diary changed."""
  diaryChanged(studentId: ID!): ChangeNotice!
  """The figures of the dashboard of this scope changed."""
  dashboardChanged(scope: DashboardScopeInput!): ChangeNotice!
}

"""A change of a read model, as reporting announced it after committing."""
type ChangeNotice {
  """What changed: journal, diary, dashboard-<level>."""
  kind: String!
  """The changed journal's id, the pupil's id or the dashboard scope's id."""
  id: ID!
}
`;
