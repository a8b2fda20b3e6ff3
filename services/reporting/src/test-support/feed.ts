// The feed helpers live with the bench exports (the history benchmark publishes with them too).
export { type FeedContext, type FeedEvent, feedEvent, publishFeed } from "../bench/feed.js";
