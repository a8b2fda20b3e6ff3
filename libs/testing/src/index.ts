export {
  createTestDatabase,
  dropDatabase,
  dropStaleTestDatabases,
  type TestDatabase,
} from "./database.js";
export {
  type TestEnvironment,
  type TestEnvironmentOptions,
  type TestServerUrls,
  useTestEnvironment,
} from "./environment.js";
export { raceBehindLocks } from "./forced-race.js";
export { postGraphql } from "./graphql-post.js";
export {
  type GrpcClientConstructor,
  grpcError,
  startTestGrpcApi,
  TEST_GRPC_SERVER_OPTIONS,
  type TestGrpcApi,
  type TestGrpcServer,
} from "./grpc-api.js";
export { TEST_DB_PREFIX, uniqueNatsPrefix, uniqueSuffix } from "./names.js";
export { deleteNatsPrefix } from "./nats.js";
export { type PrivateNats, type PrivateNatsOptions, startPrivateNats } from "./private-nats.js";
export {
  type PrivateNatsCluster,
  type PrivateNatsNode,
  startPrivateNatsCluster,
} from "./private-nats-cluster.js";
export { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.js";
export { eventually, findExecutable, freePort, rejectionOf, waitFor } from "./process.js";
export { type RequestStringField, requestStringFields } from "./request-fields.js";
export {
  addSubject,
  conductLesson,
  defineQuarters,
  FIRST_WEEK,
  generateFirstWeek,
  registerPerson,
  registerSchool,
  retryWhileCatchingUp,
  SCHOOL_YEAR,
  type SchoolApi,
  type SchoolCurriculumCalls,
  type SchoolIdentityCalls,
  type SchoolJournal,
  type SchoolSize,
  scheduleSubject,
  setUpSchool,
} from "./school.js";
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  resolveServers,
  type Servers,
  ServersUnavailableError,
} from "./servers.js";
export {
  type ServiceProcess,
  type ServiceProcessOptions,
  startServiceProcess,
} from "./service-process.js";
export {
  startTestTokenIssuer,
  type TestTokenClaims,
  type TestTokenIssuer,
} from "./token-issuer.js";
