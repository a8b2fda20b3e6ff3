import { Metadata, status } from "@grpc/grpc-js";
import {
  type CurriculumServiceClient,
  CurriculumServiceService,
} from "@otmetka/proto/curriculum/v1/curriculum_service";
import {
  type GradesServiceClient,
  GradesServiceService,
} from "@otmetka/proto/grades/v1/grades_service";
import {
  type AuthServiceClient,
  AuthServiceService,
} from "@otmetka/proto/identity/v1/auth_service";
import {
  type IdentityServiceClient,
  IdentityServiceService,
} from "@otmetka/proto/identity/v1/identity_service";
import {
  type ReportingServiceClient,
  ReportingServiceService,
} from "@otmetka/proto/reporting/v1/reporting_service";
import { h2PromiseClient, type PromiseClient } from "@otmetka/service-kit";

/** The services the gateway reads from, as promise clients (the token is passed per call). */
export interface Backends {
  identity: PromiseClient<IdentityServiceClient>;
  curriculum: PromiseClient<CurriculumServiceClient>;
  reporting: PromiseClient<ReportingServiceClient>;
  /** Commands only (mutations); absent where the gateway serves reads only (tests). */
  grades?: PromiseClient<GradesServiceClient>;
  auth?: PromiseClient<AuthServiceClient>;
  close(): void;
}

export interface BackendAddresses {
  identity: string;
  curriculum: string;
  reporting: string;
  /** Grades' address; without it grade mutations answer UNAVAILABLE. */
  grades?: string;
  /** Deadline of every call (default 10 s): a hung service fails the field, not the gateway. */
  timeoutMs?: number;
}

type Client<C> = PromiseClient<C> & { close(): void };

/**
 * A call that got no answer from the service (connection refused or lost, an HTTP answer
 * without a gRPC status, the deadline) fails with the client's own words: the service's
 * address and Node's socket error ("127.0.0.1:50051: connect ECONNREFUSED …"), which the
 * gateway must not hand to its callers. Such failures become UNAVAILABLE naming the service
 * and what to do; a status the service answered (its own typed message) passes unchanged.
 */
function answeredOrUnavailable<C>(client: Client<C>, service: string, address: string): Client<C> {
  const unanswered = (err: unknown): never => {
    const e = err as { code?: unknown; details?: unknown };
    const late = e.code === status.DEADLINE_EXCEEDED;
    if (!late && !(typeof e.details === "string" && e.details.startsWith(`${address}: `)))
      throw err;
    const details = late
      ? `${service} did not answer in time; retry`
      : `${service} is unavailable; retry`;
    throw Object.assign(
      new Error(`${status.UNAVAILABLE} UNAVAILABLE: ${details}`, { cause: err }),
      {
        code: status.UNAVAILABLE,
        details,
        metadata: new Metadata(),
      },
    );
  };
  return new Proxy(client, {
    get(target, name) {
      const method = Reflect.get(target, name) as unknown;
      if (name === "close" || typeof method !== "function") return method;
      return (request: unknown, metadata?: Metadata) =>
        (method as (r: unknown, m?: Metadata) => Promise<unknown>)(request, metadata).then(
          undefined,
          unanswered,
        );
    },
  });
}

/**
 * Every backend call is unary, made by service-kit's h2PromiseClient rather than grpc-js's
 * client: the gRPC client was half of the gateway's CPU for a `recordMark` (README).
 */
export function connectBackends(addr: BackendAddresses): Backends {
  const options = { timeoutMs: addr.timeoutMs ?? 10_000 };
  const connect = <C>(
    definition: Parameters<typeof h2PromiseClient<C>>[0],
    service: string,
    address: string,
  ) => answeredOrUnavailable(h2PromiseClient<C>(definition, address, options), service, address);
  const identity = connect<IdentityServiceClient>(
    IdentityServiceService,
    "identity",
    addr.identity,
  );
  const curriculum = connect<CurriculumServiceClient>(
    CurriculumServiceService,
    "curriculum",
    addr.curriculum,
  );
  const reporting = connect<ReportingServiceClient>(
    ReportingServiceService,
    "reporting",
    addr.reporting,
  );
  // AuthService is served by identity on the same port (a session of its own).
  const auth = connect<AuthServiceClient>(AuthServiceService, "identity", addr.identity);
  const grades = addr.grades
    ? connect<GradesServiceClient>(GradesServiceService, "grades", addr.grades)
    : undefined;
  return {
    identity,
    curriculum,
    reporting,
    auth,
    ...(grades ? { grades } : {}),
    close() {
      for (const client of [auth, grades, identity, curriculum, reporting]) client?.close();
    },
  };
}
