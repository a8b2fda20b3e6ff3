import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { ReportingServiceClient } from "@otmetka/proto/reporting/v1/reporting_service";
import { type PromiseClient, promiseClient } from "@otmetka/service-kit";

/** The services the gateway reads from, as promise clients (the token is passed per call). */
export interface Backends {
  identity: PromiseClient<IdentityServiceClient>;
  curriculum: PromiseClient<CurriculumServiceClient>;
  reporting: PromiseClient<ReportingServiceClient>;
  close(): void;
}

export interface BackendAddresses {
  identity: string;
  curriculum: string;
  reporting: string;
}

export function connectBackends(addr: BackendAddresses): Backends {
  const creds = grpc.credentials.createInsecure();
  const identity = new IdentityServiceClient(addr.identity, creds);
  const curriculum = new CurriculumServiceClient(addr.curriculum, creds);
  const reporting = new ReportingServiceClient(addr.reporting, creds);
  return {
    identity: promiseClient(identity),
    curriculum: promiseClient(curriculum),
    reporting: promiseClient(reporting),
    close() {
      identity.close();
      curriculum.close();
      reporting.close();
    },
  };
}
