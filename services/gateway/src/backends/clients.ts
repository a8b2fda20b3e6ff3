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

/**
 * Every backend call is unary, made by service-kit's h2PromiseClient rather than grpc-js's
 * client: the gRPC client was half of the gateway's CPU for a `recordMark` (README).
 */
export function connectBackends(addr: BackendAddresses): Backends {
  const options = { timeoutMs: addr.timeoutMs ?? 10_000 };
  const identity = h2PromiseClient<IdentityServiceClient>(
    IdentityServiceService,
    addr.identity,
    options,
  );
  const curriculum = h2PromiseClient<CurriculumServiceClient>(
    CurriculumServiceService,
    addr.curriculum,
    options,
  );
  const reporting = h2PromiseClient<ReportingServiceClient>(
    ReportingServiceService,
    addr.reporting,
    options,
  );
  // AuthService is served by identity on the same port (a session of its own).
  const auth = h2PromiseClient<AuthServiceClient>(AuthServiceService, addr.identity, options);
  const grades = addr.grades
    ? h2PromiseClient<GradesServiceClient>(GradesServiceService, addr.grades, options)
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
