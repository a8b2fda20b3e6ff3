import type { Metadata } from "@grpc/grpc-js";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { PortalAdminServiceServer } from "@otmetka/proto/portal/v1/portal_admin_service";
import {
  authorizedHandler,
  type CallerVerifier,
  DomainError,
  type Logger,
  requireRole,
} from "@otmetka/service-kit";
import type pg from "pg";
import type { PortalNames } from "../stream.js";
import { checkSubscriberName, provisionSubscriberConsumer } from "../subscribers/consumers.js";
import {
  registerSubscriber,
  requireRegistered,
  unregisterSubscriber,
} from "../subscribers/registry.js";
import { listDeadLetters } from "../webhook/bridge.js";
import { startPositionOf } from "./start-position.js";

/**
 * The roles an identity account holds (role names, scope dropped), asked with the caller's own
 * metadata so identity applies its PLATFORM_ADMIN check too. Null when the account is unknown.
 */
export type AccountRoles = (accountId: string, md: Metadata) => Promise<string[] | null>;

/** Re-drives one subscriber's parked subject; null when the subscriber has no running bridge. */
export type Redrive = (subscriber: string, subject: string) => Promise<number> | null;

export interface PortalAdminDeps {
  pool: pg.Pool;
  jsm: JetStreamManager;
  names: PortalNames;
  accountRoles: AccountRoles;
  redrive: Redrive;
  /** Stops an unregistered subscriber's webhook bridge in this process, if it runs one. */
  stopBridge: (subscriber: string) => Promise<void>;
}

/** gRPC handlers of the operators' API: every call PLATFORM_ADMIN only. */
export function createPortalAdminService(
  deps: PortalAdminDeps,
  verifier: CallerVerifier,
  logger: Logger,
): PortalAdminServiceServer {
  // The raw metadata rides along with the request so the admin's token can be forwarded.
  const admin = <Req, Res>(handle: (req: Req, md: Metadata) => Promise<Res>) => {
    const inner = authorizedHandler<Req & { __md?: Metadata }, Res>(
      logger,
      verifier,
      async (req, { caller }) => {
        requireRole(caller, ["PLATFORM_ADMIN"]);
        return handle(req, req.__md as Metadata);
      },
    );
    return (call: { request: Req; metadata: Metadata }, cb: Parameters<typeof inner>[1]): void =>
      inner({ request: { ...call.request, __md: call.metadata }, metadata: call.metadata }, cb);
  };
  return {
    registerSubscriber: admin(async (req, md) => {
      const name = checkSubscriberName(req.name);
      if (!req.accountId.trim()) {
        throw new DomainError("invalid_argument", "account_id: is required", {
          field: "account_id",
        });
      }
      if (req.transport !== "nats" && req.transport !== "webhook") {
        throw new DomainError("invalid_argument", "transport: must be nats or webhook", {
          field: "transport",
        });
      }
      const roles = await deps.accountRoles(req.accountId, md);
      if (roles === null) {
        throw new DomainError("not_found", `account_id: ${req.accountId} is unknown`, {
          field: "account_id",
        });
      }
      if (!roles.includes("PORTAL_SUBSCRIBER")) {
        throw new DomainError(
          "failed_precondition",
          "account_id: the account does not hold PORTAL_SUBSCRIBER",
          { field: "account_id" },
        );
      }
      await registerSubscriber(deps.pool, deps.jsm, deps.names, {
        name,
        accountId: req.accountId,
        transport: req.transport,
        ...(req.nkey ? { nkey: req.nkey } : {}),
        ...(req.webhookUrl ? { webhookUrl: req.webhookUrl } : {}),
        start: startPositionOf(req.start),
      });
      return { durable: deps.names.durable(name) };
    }),
    listSubscribers: admin(async () => {
      const r = await deps.pool.query(
        `SELECT name, account_id, transport, coalesce(nkey, '') AS nkey,
                coalesce(webhook_url, '') AS webhook_url, created_at
         FROM portal.subscribers ORDER BY name`,
      );
      return {
        subscribers: r.rows.map((x) => ({
          name: x.name,
          accountId: x.account_id,
          transport: x.transport,
          nkey: x.nkey,
          webhookUrl: x.webhook_url,
          createdAt: (x.created_at as Date).toISOString(),
          durable: deps.names.durable(x.name),
        })),
      };
    }),
    unregisterSubscriber: admin(async (req) => {
      const deadLettersDeleted = await unregisterSubscriber(
        deps.pool,
        deps.jsm,
        deps.names,
        req.name,
      );
      await deps.stopBridge(req.name);
      logger.info({ subscriber: req.name, deadLettersDeleted }, "subscriber unregistered");
      return { deadLettersDeleted };
    }),
    replaySubscriber: admin(async (req) => {
      await requireRegistered(deps.pool, req.name);
      await provisionSubscriberConsumer(deps.jsm, deps.names, req.name, startPositionOf(req.start));
      return {};
    }),
    listDeadLetters: admin(async (req) => {
      await requireRegistered(deps.pool, req.subscriber);
      const rows = await listDeadLetters(deps.pool, req.subscriber);
      return {
        deadLetters: rows.map((d) => ({
          streamSequence: String(d.streamSequence),
          subject: d.subject,
          reason: d.reason,
          error: d.error,
          attempts: d.attempts,
          createdAt: d.createdAt.toISOString(),
        })),
      };
    }),
    redriveDeadLetters: admin(async (req) => {
      await requireRegistered(deps.pool, req.subscriber);
      if (!req.subject.trim()) {
        throw new DomainError("invalid_argument", "subject: is required", { field: "subject" });
      }
      const running = deps.redrive(req.subscriber, req.subject);
      if (running === null) {
        throw new DomainError(
          "failed_precondition",
          `subscriber: ${req.subscriber} has no webhook bridge in this process`,
          { field: "subscriber" },
        );
      }
      return { redelivered: await running };
    }),
  };
}
