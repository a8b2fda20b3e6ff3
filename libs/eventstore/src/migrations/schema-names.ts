/**
 * The event store lives in its own PostgreSQL schema inside the service's database, so its
 * tables never collide with the service's read models and can be granted separately.
 */
export const EVENTSTORE_SCHEMA = "eventstore";

/**
 * Class id of the event store's advisory locks (`pg_advisory_xact_lock(classid, hash)`),
 * kept apart from any other advisory locks a service takes. 0x45530001: "ES", lock kind 1.
 */
export const STREAM_LOCK_CLASS = 0x45530001;

/** Class id of the session lock that serializes a database's migrations across instances. */
export const MIGRATION_LOCK_CLASS = 0x45530002;
