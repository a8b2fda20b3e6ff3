import type {
  AccessAuditServiceServer,
  ListAccessAuditResponse,
} from "@otmetka/proto/identity/v1/access_audit_service";
import {
  authorizedHandler,
  type CallerVerifier,
  DomainError,
  type Logger,
} from "@otmetka/service-kit";
import type pg from "pg";
import { Targets } from "../api/authorize.js";
import { requireId } from "../domain/validators.js";
import { authorizeAuditRead } from "./access.js";
import { listAccessAudit } from "./query.js";

export interface AccessAuditApiOptions {
  pool: pg.Pool;
  /** The configured region (IDENTITY_REGION_ID), for the person's schools as scope targets. */
  regionId: string;
  verifier: CallerVerifier;
  logger: Logger;
}

function requireTime(field: string, t: Date | undefined): Date {
  if (!t || Number.isNaN(t.getTime())) {
    throw new DomainError("invalid_argument", `${field}: is required`, { field });
  }
  return t;
}

/** gRPC AccessAuditService: input checked, caller authorized for the person, then one page. */
export function createAccessAuditService(o: AccessAuditApiOptions): AccessAuditServiceServer {
  const targets = new Targets(o.pool, o.regionId);
  return {
    listAccessAudit: authorizedHandler(
      o.logger,
      o.verifier,
      async (req, { caller }): Promise<ListAccessAuditResponse> => {
        const personId = requireId("person_id", req.personId);
        const from = requireTime("from", req.from);
        const to = requireTime("to", req.to);
        await authorizeAuditRead(o.pool, targets, caller, personId);
        const page = await listAccessAudit(o.pool, {
          personId,
          from,
          to,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return {
          entries: page.entries.map((e) => ({ ...e, actorPersonId: e.actorPersonId ?? "" })),
          nextPageToken: page.nextPageToken,
        };
      },
    ),
  };
}
