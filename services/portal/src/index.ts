export {
  type AccountRoles,
  createPortalAdminService,
  type PortalAdminDeps,
  type Redrive,
} from "./admin/admin-service.js";
export { identityAccountRoles } from "./admin/identity-accounts.js";
export * from "./contract/index.js";
export { migrate } from "./db/migrations.js";
export type { PerformanceSource } from "./feed/performance-source.js";
export { FEED_PROJECTION, type PortalIdOpener, portalFeedProjection } from "./feed/projection.js";
export { FeedPublisher, type FeedPublisherOptions } from "./feed/publisher.js";
export { type RunningFeed, startFeed } from "./feed/start-feed.js";
export { snapshotOfDiary } from "./reporting/diary-snapshot.js";
export { reportingPerformance } from "./reporting/reporting-performance.js";
export { portalServiceTokens } from "./service-token.js";
export { ensurePortalStream, type PortalNames, portalNames } from "./stream.js";
export { provisionSubscriberConsumer, type StartPosition } from "./subscribers/consumers.js";
export {
  authorizationConfig,
  type NatsUser,
  subscriberPermissions,
} from "./subscribers/permissions.js";
export {
  registerSubscriber,
  type SubscriberRegistration,
  subscriberAuthorization,
} from "./subscribers/registry.js";
export { listDeadLetters, WebhookBridge, type WebhookBridgeOptions } from "./webhook/bridge.js";
export { SIGNATURE_HEADER, signWebhook, verifyWebhook } from "./webhook/signature.js";
