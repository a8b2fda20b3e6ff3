import type { PortalNames } from "../stream.js";

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/**
 * A subscriber may only fetch from and ack on its own durable consumer, and receive on its own
 * inbox prefix: no consumer creation or deletion, no stream API, no shared `_INBOX.>`, no
 * internal subjects.
 */
export function subscriberPermissions(names: PortalNames, subscriber: string): NatsPermissions {
  const durable = names.durable(subscriber);
  return {
    publish: {
      allow: [
        `$JS.API.CONSUMER.INFO.${names.stream}.${durable}`,
        `$JS.API.CONSUMER.MSG.NEXT.${names.stream}.${durable}`,
        `$JS.ACK.${names.stream}.${durable}.>`,
      ],
    },
    subscribe: { allow: [`${names.inboxPrefix(subscriber)}.>`] },
  };
}

/**
 * A server user: the services' own (user and password, no permissions block: everything), or a
 * subscriber identified by its NKey public key — the subscriber keeps the seed, the server
 * and otmetka hold no secret of theirs.
 */
export type NatsUser =
  | { user: string; password: string; permissions?: NatsPermissions }
  | { nkey: string; permissions: NatsPermissions };

/**
 * The `authorization` block of a nats-server configuration (the server reads JSON values in
 * its config syntax). Operators deploy it and reload the server (`nats-server --signal reload`)
 * when subscribers are added.
 */
export function authorizationConfig(users: NatsUser[]): string {
  return `authorization {\n  users = ${JSON.stringify(users, null, 2)}\n}\n`;
}
