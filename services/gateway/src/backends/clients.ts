import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { GradesServiceClient } from "@otmetka/proto/grades/v1/grades_service";
import { AuthServiceClient } from "@otmetka/proto/identity/v1/auth_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { ReportingServiceClient } from "@otmetka/proto/reporting/v1/reporting_service";
import { CLIENT_CHANNEL_DEFAULTS, type PromiseClient, promiseClient } from "@otmetka/service-kit";

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

export function connectBackends(addr: BackendAddresses): Backends {
  const creds = grpc.credentials.createInsecure();
  // A default deadline for every method, through the channel's service config.
  // grpc-js reads the fraction as nanoseconds, so it gets all nine digits.
  const ms = addr.timeoutMs ?? 10_000;
  const seconds = `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, "0")}`;
  const options = {
    ...CLIENT_CHANNEL_DEFAULTS,
    "grpc.service_config": JSON.stringify({
      methodConfig: [{ name: [{}], timeout: `${seconds}s` }],
    }),
  };
  const identity = new IdentityServiceClient(addr.identity, creds, options);
  const curriculum = new CurriculumServiceClient(addr.curriculum, creds, options);
  const reporting = new ReportingServiceClient(addr.reporting, creds, options);
  // AuthService is served by identity on the same port.
  const auth = new AuthServiceClient(addr.identity, creds, options);
  const grades = addr.grades ? new GradesServiceClient(addr.grades, creds, options) : undefined;
  return {
    identity: promiseClient(identity),
    curriculum: promiseClient(curriculum),
    reporting: promiseClient(reporting),
    auth: promiseClient(auth),
    ...(grades ? { grades: promiseClient(grades) } : {}),
    close() {
      auth.close();
      grades?.close();
      identity.close();
      curriculum.close();
      reporting.close();
    },
  };
}
