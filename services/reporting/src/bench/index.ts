/* What tests/bench needs of the service: the read model, its API and the bulk loader. */
export { Access } from "../api/access.js";
export { createReportingService } from "../api/reporting-service.js";
export { openReportingDatabase } from "../db/open-database.js";
export { DEFAULT_METRICS_CONFIG } from "../domain/metrics/definitions.js";
export { REPORTING_SCHEMA, reportingProjection } from "../projections/projection.js";
export { type DashboardQuery, dashboard } from "../queries/dashboards.js";
export { ReadDb } from "../queries/read-db.js";
export { ensureSourceStreams } from "../streams.js";
export { type FeedEvent, publishFeed } from "./feed.js";
export { type SyntheticHistory, syntheticHistory } from "./synthetic-history.js";
export { loadSyntheticRegion, type SyntheticRegion } from "./synthetic-region.js";
