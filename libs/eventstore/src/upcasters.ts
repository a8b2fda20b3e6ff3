import { InvalidEventStoreArgument } from "./errors.js";

/** Turns `data` of schema version N of a type into schema version N + 1. */
export type Upcaster = (data: unknown) => unknown;

/**
 * Registered upcasters by (type, schema version). On read, an event's data is passed
 * through the chain N -> N+1 -> ... until no upcaster is registered, so stored events are
 * never rewritten and readers only know the current shape.
 */
export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();

  /** Registers the step from `fromSchemaVersion` to `fromSchemaVersion + 1` of `type`. */
  register(type: string, fromSchemaVersion: number, upcast: Upcaster): this {
    if (!Number.isInteger(fromSchemaVersion) || fromSchemaVersion < 1) {
      throw new InvalidEventStoreArgument(
        "fromSchemaVersion",
        `must be an integer >= 1, got ${fromSchemaVersion}`,
      );
    }
    const key = `${type}@${fromSchemaVersion}`;
    if (this.byKey.has(key)) {
      throw new InvalidEventStoreArgument(
        "upcaster",
        `one upcaster per (type, schema version): ${type} v${fromSchemaVersion} is registered twice`,
      );
    }
    this.byKey.set(key, upcast);
    return this;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Data in the newest shape known for `type`, and that shape's schema version. */
  upcast(
    type: string,
    schemaVersion: number,
    data: unknown,
  ): { data: unknown; schemaVersion: number } {
    let version = schemaVersion;
    let current = data;
    for (;;) {
      const step = this.byKey.get(`${type}@${version}`);
      if (!step) return { data: current, schemaVersion: version };
      current = step(current);
      version += 1;
    }
  }
}
