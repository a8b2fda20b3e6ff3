import { type MessagingNames, subjectToken } from "@otmetka/messaging";
import type { Projection } from "./projection.js";

/** The schema readers query: it always holds the live version of the read model. */
export const liveSchema = (p: Pick<Projection, "name">) => `proj_${p.name}`;

/** Where a rebuild fills the next version, renamed to the live name at the swap. */
export const buildSchema = (p: Pick<Projection, "name">) => `proj_${p.name}__build`;

/** The previous version after a swap, kept until dropped (`--keep-old`). */
export const retiredSchema = (p: Pick<Projection, "name">, version: number) =>
  `proj_${p.name}__v${version}_retired`;

/** Durable consumer of one source of the live runner. */
export const liveDurable = (names: MessagingNames, p: Pick<Projection, "name">, context: string) =>
  names.nats.durable(`projection-${p.name.replace(/_/g, "-")}-${context}`);

/**
 * Filter of a source: exactly the event subjects `<root>.<muni>.<school>.<partition>.<Type>`,
 * so change notices (`<root>.changed.<kind>.<id>`), should a stream capture them, never match.
 */
export const sourceFilter = (names: MessagingNames, context: string) =>
  `${names.eventRoot(context)}.*.*.*.*`;

/** `<prefix>.<ctx>.v1.changed.<kind>.<id>`. */
export const noticeSubject = (names: MessagingNames, context: string, kind: string, id: string) =>
  `${names.eventRoot(context)}.changed.${subjectToken(kind)}.${subjectToken(id)}`;
