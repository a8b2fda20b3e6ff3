export * from "./contract/index.js";
export { migrate } from "./db/migrations.js";
export { FEED_PROJECTION, type PortalIdOpener, portalFeedProjection } from "./feed/projection.js";
export { FeedPublisher, type FeedPublisherOptions } from "./feed/publisher.js";
export { ensurePortalStream, type PortalNames, portalNames } from "./stream.js";
