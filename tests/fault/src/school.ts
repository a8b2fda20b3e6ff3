// A small school through the services' gRPC APIs: class groups with pupils and a teacher,
// subjects with a conducted lesson each — one grades journal per (class group, subject).
import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { promiseClient } from "@otmetka/service-kit";
import {
  type SchoolJournal,
  type SchoolSize,
  setUpSchool as setUpSchoolOverGrpc,
  type TestTokenIssuer,
} from "@otmetka/testing";

export { SCHOOL_YEAR as YEAR } from "@otmetka/testing";
export type Journal = SchoolJournal;

export async function setUpSchool(
  issuer: TestTokenIssuer,
  address: { identity: string; curriculum: string },
  size: SchoolSize,
): Promise<Journal[]> {
  const creds = grpc.credentials.createInsecure();
  const identityClient = new IdentityServiceClient(address.identity, creds);
  const curriculumClient = new CurriculumServiceClient(address.curriculum, creds);
  try {
    const metadata = issuer.metadataFor(await issuer.sign({ roles: ["PLATFORM_ADMIN"] }));
    const api = {
      identity: promiseClient(identityClient),
      curriculum: promiseClient(curriculumClient),
      metadata,
    };
    const school = await setUpSchoolOverGrpc(api, size, { municipality: "Отказоустойчивый" });
    return school.journals;
  } finally {
    identityClient.close();
    curriculumClient.close();
  }
}
