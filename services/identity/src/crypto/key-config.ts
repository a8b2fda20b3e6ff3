/** Parsing of the key variables; the values are secrets, so nothing here prints them. */

export interface MasterKey {
  id: string;
  key: Buffer;
}

/** The configured master keys: `active` wraps new data keys; every key can unwrap. */
export interface MasterKeyring {
  active: MasterKey;
  byId: ReadonlyMap<string, Buffer>;
}

function key32(b64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const key = Buffer.from(b64, "base64");
  return key.length === 32 ? key : undefined;
}

export function parseMasterKeys(raw: string): MasterKeyring | undefined {
  const keys: MasterKey[] = [];
  for (const part of raw.split(",")) {
    const m = /^([A-Za-z0-9_-]{1,40}):(\S+)$/.exec(part.trim());
    const key = m ? key32(m[2]!) : undefined;
    if (!m || !key || keys.some((k) => k.id === m[1])) return undefined;
    keys.push({ id: m[1]!, key });
  }
  if (keys.length === 0) return undefined;
  return { active: keys[0]!, byId: new Map(keys.map((k) => [k.id, k.key])) };
}

export function parseBlindIndexKey(raw: string): Buffer | undefined {
  return key32(raw.trim());
}
