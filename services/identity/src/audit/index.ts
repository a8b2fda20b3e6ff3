// What the bench (and later the gateway's tests) use of the access audit.
export { AuditConsumer, type AuditConsumerStats } from "./consumer.js";
export { auditMigrations, migrateAuditTables } from "./migrations.js";
export { monthOf, monthStart, monthSuffix } from "./months.js";
export { AuditPartitions } from "./partitions.js";
export { type AuditEntry, listAccessAudit } from "./query.js";
export {
  type AuditRecord,
  decodeAuditRecord,
  encodeAccessRecord,
  toAuditRecord,
} from "./record.js";
export { AuditStore, type StoreResult } from "./store.js";
export { type AuditNames, auditNames, ensureAuditStream } from "./stream.js";
export { type AccessAudit, startAccessAudit } from "./wiring.js";
