import type { Caller } from "@otmetka/service-kit";
import { type ExecutionResult, Kind, parse } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { DashboardCache } from "../backends/dashboard-cache.js";
import type { GatewayContext } from "../context.js";

/** A whole answer and its JSON, served again without parsing, validating or executing. */
export interface CachedResponse {
  data: ExecutionResult["data"];
  json: string;
}

export interface ResponseCacheOptions {
  cache: DashboardCache<CachedResponse>;
  /** The request's verified caller, shared with the context factory (one verification, one rate-limit token). */
  caller: (request: Request, query: unknown) => Promise<Caller>;
  /** Today's date: the default academic year and `current` period depend on it. */
  today: () => string;
}

/** The caller's grants, sorted: "the same viewer scope" for both dashboard caches. */
export const grantsKey = (c: { grants: readonly { role: string; scope: unknown }[] }) =>
  c.grants
    .map((g) => `${g.role}@${JSON.stringify(g.scope)}`)
    .sort()
    .join(",");

const shapes = new Map<string, boolean>();

/**
 * Whether a document is one query whose root fields are only `dashboard` (and `__typename`):
 * answers that hold no personal data and depend on nothing but the caller's grants, the
 * arguments and reporting's figures.
 */
export function dashboardOnly(query: unknown): query is string {
  if (typeof query !== "string" || query.length > 8000) return false;
  let known = shapes.get(query);
  if (known === undefined) {
    try {
      const ops = parse(query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      known =
        ops.length === 1 &&
        ops[0]?.operation === "query" &&
        ops[0].selectionSet.selections.every(
          (s) =>
            s.kind === Kind.FIELD &&
            (s.name.value === "dashboard" || s.name.value === "__typename"),
        );
    } catch {
      known = false;
    }
    if (shapes.size >= 1000) shapes.clear();
    shapes.set(query, known);
  }
  return known;
}

/**
 * Whole-response cache of dashboard documents, keyed by viewer scope (the token's grants),
 * today, document and variables, dropped with reporting's answers by the dashboard notices of
 * the scopes its dashboards read (`DashboardCache`). A hit
 * is answered in `onParams`, after authentication and the rate limit, before parsing. Not for
 * callers with a TEACHER grant: which class groups they see follows curriculum's teaching
 * assignments, not their token. Only answers without errors and without audited pupils are
 * stored.
 */
export function dashboardResponseCache(o: ResponseCacheOptions): Plugin {
  const pending = new WeakMap<Request, Miss>();
  // One execution per key at a time: concurrent misses wait for the first one's answer
  // (50 clients asking a cold dashboard at once would otherwise compute it 50 times).
  const inflight = new Map<string, Promise<CachedResponse | undefined>>();
  const settle = (request: Request, answer?: CachedResponse) => {
    const miss = pending.get(request);
    if (!miss) return;
    pending.delete(request);
    inflight.delete(miss.key);
    miss.done(answer);
  };
  return {
    async onParams({ request, params, setResult }) {
      if (!dashboardOnly(params.query)) return;
      let caller: Caller;
      try {
        caller = await o.caller(request, params.query);
      } catch {
        return; // the context factory answers the refusal
      }
      if (caller.grants.some((g) => g.role === "TEACHER")) return;
      const key = [
        grantsKey(caller),
        o.today(),
        params.operationName ?? "",
        params.query,
        JSON.stringify(params.variables ?? {}),
      ].join("\n");
      // No await unless one is in flight: the check and the claim below are one step.
      const running = inflight.get(key);
      const hit = o.cache.get(key) ?? (running ? await running : undefined);
      if (hit) {
        setResult({ data: hit.data, stringify: () => hit.json } as ExecutionResult);
        return;
      }
      let done: Miss["done"] = () => undefined;
      inflight.set(key, new Promise((resolve) => (done = resolve)));
      pending.set(request, { key, generation: o.cache.begin(), done });
    },
    onExecute({ args }) {
      const ctx = args.contextValue as unknown as GatewayContext & { request?: Request };
      const p = ctx.request && pending.get(ctx.request);
      if (!p) return;
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result || result.errors?.length || !ctx.audit.empty) return;
          const answer = { data: result.data, json: JSON.stringify(result) };
          const tags = scopeTags(ctx.dashboardScopes);
          o.cache.set(p.key, answer, p.generation, tags);
          // Waiters share it only if no notice of its scopes came in between.
          if (o.cache.fresh(p.generation, tags)) settle(ctx.request as Request, answer);
        },
      };
    },
    // Every request ends here (refusals, errors, answers): waiters of a miss are never left.
    onResultProcess({ request }) {
      settle(request);
    },
  };
}

/** A response's tags: the scopes of the dashboards it read; null (any notice) when one is unknown. */
function scopeTags(scopes: ReadonlySet<string> | undefined): string[] | null {
  return !scopes?.size || scopes.has("") ? null : [...scopes];
}

interface Miss {
  key: string;
  generation: number;
  /** Hands the answer (or nothing: waiters execute themselves) to concurrent misses. */
  done: (answer: CachedResponse | undefined) => void;
}
