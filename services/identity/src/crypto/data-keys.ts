import { aadOf, open, seal } from "./aead.js";
import type { MasterKeyring } from "./key-config.js";

/** A data key wrapped (AES-256-GCM) by a master key, as kept in the person_keys table. */
export interface WrappedKey {
  masterKeyId: string;
  wrapped: Buffer;
}

export function wrapDataKey(ring: MasterKeyring, personId: string, dataKey: Buffer): WrappedKey {
  const { id, key } = ring.active;
  return { masterKeyId: id, wrapped: seal(key, aadOf.wrappedKey(personId, id), dataKey) };
}

/** Throws when the master key is not configured or the row does not belong to this person. */
export function unwrapDataKey(ring: MasterKeyring, personId: string, w: WrappedKey): Buffer {
  const master = ring.byId.get(w.masterKeyId);
  if (!master) throw new Error(`master key ${w.masterKeyId} is not configured`);
  const key = open(master, aadOf.wrappedKey(personId, w.masterKeyId), w.wrapped);
  if (!key) throw new Error(`data key of person ${personId} does not unwrap`);
  return key;
}
