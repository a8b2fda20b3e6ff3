import { randomBytes } from "node:crypto";
import { parseBlindIndexKey, parseMasterKeys } from "../crypto/key-config.js";

/** Fresh keys for one test file, as variables and parsed. */
export function testKeys(masterKeyId = "test1") {
  const env = {
    IDENTITY_MASTER_KEYS: `${masterKeyId}:${randomBytes(32).toString("base64")}`,
    IDENTITY_BLIND_INDEX_KEY: randomBytes(32).toString("base64"),
  };
  return {
    env,
    masterKeys: parseMasterKeys(env.IDENTITY_MASTER_KEYS)!,
    blindIndexKey: parseBlindIndexKey(env.IDENTITY_BLIND_INDEX_KEY)!,
  };
}
