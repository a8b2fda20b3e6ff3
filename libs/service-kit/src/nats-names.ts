/**
 * Every JetStream stream, subject and durable name goes through here so that NATS_PREFIX is
 * applied one way everywhere (conventions.md "Names"). With prefix `p`:
 *   stream  `p_GRADES`            (libs/testing deletes streams starting with the prefix)
 *   subject `p.grades.v1.<...>`   (a leading token, so a stream captures `p.grades.>`)
 *   durable `p_reporting-grades`
 *   KV bucket `p_name`            (stored as stream `KV_p_name`)
 * Without a prefix the names are the plain ones: `GRADES`, `grades.v1...`, `reporting-grades`.
 */
export interface NatsNames {
  readonly prefix: string | undefined;
  stream(name: string): string;
  /** `subject("grades.v1._._._.MarkRecorded")` or `subject("grades", "v1", ...)`. */
  subject(...tokens: string[]): string;
  durable(name: string): string;
  kvBucket(name: string): string;
  /** The stream of one context: `GRADES` capturing `grades.>`, both prefixed. */
  contextStream(context: string): { name: string; subjects: string[] };
}

const PREFIX_PATTERN = /^[A-Za-z0-9_-]+$/;

export function natsNames(prefix?: string): NatsNames {
  const p = prefix === undefined || prefix === "" ? undefined : prefix;
  if (p !== undefined && !PREFIX_PATTERN.test(p)) {
    throw new RangeError(`NATS prefix must be letters, digits, '_' or '-': ${JSON.stringify(p)}`);
  }
  const underscored = (name: string) => (p ? `${p}_${name}` : name);
  const subject = (...tokens: string[]) => {
    const rest = tokens.join(".");
    return p ? `${p}.${rest}` : rest;
  };
  return {
    prefix: p,
    stream: underscored,
    subject,
    durable: underscored,
    kvBucket: underscored,
    contextStream: (context) => ({
      name: underscored(context.toUpperCase()),
      subjects: [subject(context.toLowerCase(), ">")],
    }),
  };
}
