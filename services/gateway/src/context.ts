import type { Caller } from "@otmetka/service-kit";
import type { Backends } from "./backends/clients.js";
import type { Loaders } from "./backends/loaders.js";
import type { Placements } from "./backends/placements.js";
import type { NoticeHub } from "./subscriptions/notices.js";

/** Pupils whose personal data or marks this request returned to staff (one audit record). */
export class AuditCollector {
  readonly pupils = new Set<string>();
  /** The role claim that authorized the first such read. */
  role: string | undefined;

  add(pupilIds: Iterable<string>, role: string): void {
    for (const id of pupilIds) this.pupils.add(id);
    this.role ??= role;
  }
}

export interface GatewayContext {
  /** The verified caller; for login, refreshToken and logout without a token, accountId "". */
  caller: Caller;
  /** Commands are forwarded through these with the caller's token. */
  backends?: Backends;
  /** Change notices for subscriptions (absent: subscriptions answer UNAVAILABLE). */
  notices?: NoticeHub;
  regionId: string;
  loaders: Loaders;
  /** Process-wide: class groups' and schools' placements for the commands' scope check. */
  placements?: Placements;
  audit: AuditCollector;
  /** The role claim each authorized field was allowed under, by its path (see authz/apply.ts). */
  claims: WeakMap<object, string>;
  /** Today's civil date (UTC), for rosters and the default academic year. */
  today: string;
}

/** A person as resolvers pass it on: `via` is the role claim of an authorized path to them. */
export interface PersonRef {
  id: string;
  via?: string;
}
