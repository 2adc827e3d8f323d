/**
 * Parsing `WWW-Authenticate` headers (RFC 9110 §11.6.1): one header may carry several
 * challenges (`Basic realm="x", Bearer realm="y",service="z"`), parameter values may be tokens or
 * quoted strings with backslash escapes, and scheme names are case-insensitive. Registries answer
 * a 401 with a `Bearer` challenge (realm, service, scope of the token to ask for) or `Basic`.
 *
 * @module
 */

/** One authentication challenge. */
export interface Challenge {
  /** Scheme, lower-cased: `bearer`, `basic`. */
  scheme: string;
  /** Parameters with lower-cased names, e.g. `realm`, `service`, `scope`, `error`. */
  params: Record<string, string>;
  /** A token68 value instead of parameters (rare; e.g. `Negotiate abc==`). */
  token68?: string;
}

/**
 * Parses a `WWW-Authenticate` header value into its challenges.
 *
 * @param header The header value (several headers may be joined with `, `).
 * @returns The challenges in order; empty for an empty or unparseable header.
 *
 * @example
 * ```ts
 * import { parseChallenges } from "./challenge.ts";
 * const [c] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"');
 * console.assert(c?.scheme === "bearer" && c.params.service === "registry.docker.io");
 * ```
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const challenges: Challenge[] = [];
  if (!header) return challenges;
  const s = header;
  let i = 0;
  const skipSpace = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const bare = (): string => {
    // Lenient: a few registries send unquoted URLs, which are not tokens.
    const start = i;
    while (i < s.length && s[i] !== "," && s[i] !== " " && s[i] !== "\t") i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    let out = "";
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      out += s[i];
      i++;
    }
    i++; // closing quote
    return out;
  };
  let current: Challenge | undefined;
  while (i < s.length) {
    skipSpace();
    if (s[i] === ",") {
      i++;
      continue;
    }
    const name = token();
    if (name === "") {
      i++; // skip a stray character
      continue;
    }
    skipSpace();
    if (current && s[i] === "=") {
      // An auth-param of the current challenge.
      i++;
      skipSpace();
      const value = s[i] === '"' ? quoted() : bare();
      current.params[name.toLowerCase()] = value;
      continue;
    }
    // A new challenge: its scheme, then a token68 or auth-params (read by the loop).
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
    const rest = s.slice(i);
    const t68 = /^([A-Za-z0-9._~+/-]+=*)\s*(?:,|$)/.exec(rest);
    if (t68 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=\s*[^=\s,]/.test(rest)) {
      current.token68 = t68[1]!;
      i += t68[1]!.length;
    }
  }
  return challenges;
}
