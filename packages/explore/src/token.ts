/**
 * Schedule tokens: short, printable, versioned names for one execution.
 *
 * A token is `fs1.<hash8>.<payload>`:
 * - `fs1` is the format version;
 * - `hash8` is FNV-1a (32 bits, hex) of the scenario id and kernel id, so a token
 *   recorded for one (scenario, kernel) is refused by another;
 * - `payload` is base64url of the machine's decisions (the candidate index chosen at
 *   each step that had more than one candidate), each as an unsigned LEB128 varint.
 *   Decisions are small integers, so almost every one costs a single byte.
 *
 * A schedule without a choice is `fs1.<hash8>` (no trailing `.` that reads as the end
 * of a sentence); `fs1.<hash8>.` is still read.
 *
 * The machine is a pure function of (program, configuration, decisions), so the token
 * is all a replay needs besides the target itself.
 */

export const TOKEN_VERSION = "fs1";

export interface TargetIdentity {
  scenarioId: string;
  kernelId: string;
}

export interface DecodedToken {
  version: string;
  hash: string;
  decisions: number[];
}

/** A token was recorded for another (scenario, kernel), or is malformed. */
export class TokenError extends Error {
  override readonly name = "TokenError";
}

/** FNV-1a over a string's UTF-16 code units, as 8 hex digits. */
export function fnv1a32(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The hash a token carries for a (scenario, kernel) pair. */
export function identityHash(identity: TargetIdentity): string {
  // NUL cannot appear in an id, so "a" + "bc" and "ab" + "c" hash differently.
  return fnv1a32(`${identity.scenarioId}\u0000${identity.kernelId}`);
}

export function encodeToken(identity: TargetIdentity, decisions: readonly number[]): string {
  const bytes: number[] = [];
  for (const decision of decisions) writeVarint(bytes, decision);
  const head = `${TOKEN_VERSION}.${identityHash(identity)}`;
  return bytes.length === 0 ? head : `${head}.${Buffer.from(bytes).toString("base64url")}`;
}

export function decodeToken(token: string): DecodedToken {
  const parts = token.trim().split(".");
  if (parts.length === 2) parts.push("");
  if (parts.length !== 3) throw new TokenError(`malformed schedule token ${JSON.stringify(token)}: expected ${TOKEN_VERSION}.<hash>.<decisions>`);
  const [version, hash, payload] = parts;
  if (version !== TOKEN_VERSION) throw new TokenError(`schedule token version ${JSON.stringify(version)} is not supported (this explorer reads ${TOKEN_VERSION})`);
  if (!/^[0-9a-f]{8}$/.test(hash)) throw new TokenError(`malformed schedule token: ${JSON.stringify(hash)} is not an 8-digit hex hash`);
  if (!/^[A-Za-z0-9_-]*$/.test(payload)) throw new TokenError(`malformed schedule token: the decisions are not base64url`);
  return { version, hash, decisions: readVarints(Buffer.from(payload, "base64url")) };
}

/**
 * Decode `token` and check it belongs to `identity`. `known` (other targets) lets the
 * error name the scenario and kernel the token was really recorded for.
 */
export function decodeTokenFor(token: string, identity: TargetIdentity, known: readonly TargetIdentity[] = []): number[] {
  const decoded = decodeToken(token);
  const expected = identityHash(identity);
  if (decoded.hash === expected) return decoded.decisions;
  const owner = known.find((k) => identityHash(k) === decoded.hash);
  const ownerText = owner ? `scenario "${owner.scenarioId}", kernel "${owner.kernelId}"` : "an unknown scenario and kernel";
  throw new TokenError(
    `schedule token ${shortToken(token)} was recorded for ${ownerText} (hash ${decoded.hash}), ` +
      `not for scenario "${identity.scenarioId}", kernel "${identity.kernelId}" (hash ${expected})`,
  );
}

function shortToken(token: string): string {
  return token.length > 40 ? token.slice(0, 37) + "..." : token;
}

function writeVarint(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new TokenError(`a decision must be a non-negative integer, found ${value}`);
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function readVarints(bytes: Uint8Array): number[] {
  const values: number[] = [];
  let value = 0;
  let scale = 1;
  let open = false;
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale;
    open = (byte & 0x80) !== 0;
    if (open) scale *= 128;
    else {
      values.push(value);
      value = 0;
      scale = 1;
    }
  }
  if (open) throw new TokenError("malformed schedule token: the last decision is cut off");
  return values;
}
