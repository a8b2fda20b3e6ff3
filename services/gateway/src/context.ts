import type { Caller, Logger } from "@otmetka/service-kit";
import { type GraphQLResolveInfo, responsePathAsArray } from "graphql";
import type { Backends } from "./backends/clients.js";
import type { Loaders } from "./backends/loaders.js";
import type { Placements } from "./backends/placements.js";
import type { CallerAuth } from "./http/gateway.js";
import type { NoticeHub } from "./subscriptions/notices.js";
import type { SubscriptionSlots } from "./subscriptions/slots.js";

type Path = GraphQLResolveInfo["path"];

/**
 * Staff reads of pupils' personal data or marks in this request (one audit record). Each read
 * is noted with its field's path and counts only if the answer holds a value there: a field
 * refused after its policy, failed, null (an erased person's name) or nulled by an error below
 * it served nothing, and the record says whose data was served.
 */
export class AuditCollector {
  private readonly reads: { path: Path; pupils: readonly string[]; role: string }[] = [];

  /** No audited field was reached (the answer can be cached, nothing to publish). */
  get empty(): boolean {
    return this.reads.length === 0;
  }

  add(path: Path, pupilIds: readonly string[], role: string): void {
    if (pupilIds.length) this.reads.push({ path, pupils: pupilIds, role });
  }

  /** The pupils whose data `data` holds, and the role claim that allowed the first such read. */
  served(data: unknown): { pupils: Set<string>; role: string | undefined } {
    const pupils = new Set<string>();
    let role: string | undefined;
    for (const read of this.reads) {
      if (!holds(data, responsePathAsArray(read.path))) continue;
      for (const id of read.pupils) pupils.add(id);
      role ??= read.role;
    }
    return { pupils, role };
  }
}

function holds(data: unknown, keys: readonly (string | number)[]): boolean {
  let v = data;
  for (const k of keys) {
    if (v === null || typeof v !== "object") return false;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v !== null && v !== undefined;
}

export interface GatewayContext {
  /** The verified caller; for login, refreshToken and logout without a token, accountId "". */
  caller: Caller;
  /** Commands are forwarded through these with the caller's token. */
  backends?: Backends;
  /** Change notices for subscriptions (absent: subscriptions answer UNAVAILABLE). */
  notices?: NoticeHub;
  /** Open subscriptions per account (this instance, SSE and WebSocket); absent: no limit. */
  subscriptions?: SubscriptionSlots;
  /** The caller's token checked again later (revoked? expired?): subscriptions end with it. */
  callerAuth?: CallerAuth;
  /** The gateway's logger, for what goes wrong after the answer began (a subscription ending). */
  logger?: Logger;
  regionId: string;
  loaders: Loaders;
  /** Process-wide: class groups' and schools' placements for the commands' scope check. */
  placements?: Placements;
  audit: AuditCollector;
  /** The role claim each authorized field was allowed under, by its path (see authz/apply.ts). */
  claims: WeakMap<object, string>;
  /**
   * Today's civil date in the region's zone (GATEWAY_TIME_ZONE), for rosters, the assignment
   * checks and the default academic year.
   */
  today: string;
  /**
   * The gateway's clock as a civil date, asked again: an open subscription's re-check uses
   * the date of its notice, not `today` of when it opened.
   */
  dateNow: () => string;
  /** With the dashboard cache on: the scopes of the dashboards this request read (loaders.ts). */
  dashboardScopes?: Set<string>;
}

/** A person as resolvers pass it on: `via` is the role claim of an authorized path to them. */
export interface PersonRef {
  id: string;
  via?: string;
}
