/**
 * Push progress: the events {@linkcode PushEvent} that `push.ts` emits, and a renderer that turns
 * them into what a person (or a CI log, or a program) wants to see:
 *
 * - `tty`: one live line per blob (state, bytes, rate), redrawn in place at most ten times a
 *   second, then a summary line;
 * - `plain` (CI, or stderr not a terminal): one line per finished blob and manifest, no escape
 *   codes;
 * - `json`: every event as one JSON line (for `--json`);
 * - `quiet`: nothing.
 *
 * Events carry digests, sizes, repositories and credential *sources*, never a secret.
 *
 * @module
 */
import { formatBytes } from "../cli/format.ts";

/** What happens while pushing. */
export type PushEvent =
  | {
    type: "blob";
    registry: string;
    repository: string;
    digest: string;
    size: number;
    /** `exists`: the registry had it; `mounted`: from another repository; `uploading`; `uploaded`; `retry`. */
    state: "exists" | "mounted" | "uploading" | "uploaded" | "retry";
    /** Bytes sent so far (`uploading`). */
    sent?: number;
    /** Mount source repository (`mounted`). */
    from?: string;
    /** Why the upload restarts (`retry`). */
    reason?: string;
  }
  | {
    type: "manifest";
    registry: string;
    repository: string;
    /** The digest or tag it was pushed under. */
    reference: string;
    digest: string;
  }
  | { type: "credential"; registry: string; source: string }
  | {
    type: "pushed";
    /** `REGISTRY/REPOSITORY@sha256:…`. */
    reference: string;
    tags: string[];
  };

/** How progress is shown. */
export type ProgressMode = "tty" | "plain" | "json" | "quiet";

/**
 * Picks the progress mode the way the CLI does: `--quiet` → quiet, `--json` → json, else a TTY
 * outside CI → tty, else plain.
 *
 * @param flags `quiet`, `json` and whether stderr is a terminal.
 * @param env Environment (`CI=true` forces plain).
 * @returns The mode.
 *
 * @example
 * ```ts
 * import { progressMode } from "./progress.ts";
 * console.assert(progressMode({ isTTY: true }, { CI: "true" }) === "plain");
 * console.assert(progressMode({ isTTY: true }, {}) === "tty");
 * ```
 */
export function progressMode(
  flags: { quiet?: boolean; json?: boolean; isTTY: boolean },
  env: Record<string, string | undefined>,
): ProgressMode {
  if (flags.quiet) return "quiet";
  if (flags.json) return "json";
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
  return flags.isTTY && !ci && env.TERM !== "dumb" ? "tty" : "plain";
}

interface _Row {
  label: string;
  size: number;
  state: string;
  sent: number;
  started: number;
  finished?: number;
}

/**
 * Renders push events to output lines.
 *
 * @example Plain output
 * ```ts
 * import { PushProgress } from "./progress.ts";
 * const lines: string[] = [];
 * const p = new PushProgress("plain", (l) => lines.push(l));
 * p.event({ type: "blob", registry: "r", repository: "a", digest: "sha256:" + "a".repeat(64), size: 10, state: "exists" });
 * p.finish();
 * console.assert(lines[0]!.includes("exists"));
 * ```
 */
export class PushProgress {
  readonly #mode: ProgressMode;
  readonly #write: (line: string) => void;
  readonly #rows = new Map<string, _Row>();
  readonly #now: () => number;
  readonly #start: number;
  #drawn = 0;
  #lastDraw = -Infinity;
  readonly #counts = { exists: 0, mounted: 0, uploaded: 0, bytes: 0 };

  /**
   * Makes a renderer.
   *
   * @param mode How to show progress.
   * @param write Writes one line (stderr).
   * @param now Clock in ms (tests).
   */
  constructor(mode: ProgressMode, write: (line: string) => void, now: () => number = Date.now) {
    this.#mode = mode;
    this.#write = write;
    this.#now = now;
    this.#start = now();
  }

  /**
   * Takes one event.
   *
   * @param e The event.
   */
  event(e: PushEvent): void {
    if (this.#mode === "quiet") return;
    if (this.#mode === "json") {
      this.#write(JSON.stringify(e));
      return;
    }
    if (e.type === "blob") return this.#blob(e);
    if (e.type === "manifest") {
      this.#line(
        `manifest ${e.registry}/${e.repository}${e.reference.startsWith("sha256:") ? "@" : ":"}${
          _shortRef(e.reference)
        } pushed`,
      );
    } else if (e.type === "credential") {
      this.#line(`using credentials for ${e.registry} from ${e.source}`);
    } else {
      this.#line(`pushed ${e.reference}`);
    }
  }

  /** Prints the summary line (tty and plain modes). */
  finish(): void {
    if (this.#mode !== "tty" && this.#mode !== "plain") return;
    if (this.#mode === "tty") this.#draw(true);
    const c = this.#counts;
    const seconds = Math.max(0.001, (this.#now() - this.#start) / 1000);
    this.#write(
      `blobs: ${c.uploaded} uploaded (${
        formatBytes(c.bytes)
      }), ${c.mounted} mounted, ${c.exists} already there, in ${seconds.toFixed(1)}s`,
    );
  }

  #blob(e: Extract<PushEvent, { type: "blob" }>): void {
    const key = `${e.registry}/${e.repository}@${e.digest}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = {
        label: `${e.repository} ${e.digest.slice(7, 19)}`,
        size: e.size,
        state: e.state,
        sent: 0,
        started: this.#now(),
      };
      this.#rows.set(key, row);
    }
    row.state = e.state === "mounted" && e.from ? `mounted from ${e.from}` : e.state;
    if (e.state === "retry") row.state = `retrying (${e.reason ?? "error"})`;
    if (e.sent !== undefined) row.sent = e.sent;
    const done = e.state === "exists" || e.state === "mounted" || e.state === "uploaded";
    if (done) {
      row.finished = this.#now();
      if (e.state === "uploaded") {
        row.sent = e.size;
        this.#counts.uploaded++;
        this.#counts.bytes += e.size;
      } else this.#counts[e.state === "exists" ? "exists" : "mounted"]++;
    }
    if (this.#mode === "tty") this.#draw(done);
    else if (done || e.state === "retry") this.#write(this.#format(row));
  }

  #format(row: _Row): string {
    const end = row.finished ?? this.#now();
    const seconds = Math.max(0.001, (end - row.started) / 1000);
    const bytes = row.state === "uploading" || row.state === "uploaded"
      ? `${formatBytes(row.sent)}/${formatBytes(row.size)}`
      : formatBytes(row.size);
    const rate = row.state === "uploading" || row.state === "uploaded"
      ? ` ${formatBytes(row.sent / seconds)}/s`
      : "";
    return `blob ${row.label} ${bytes.padStart(9)} ${row.state}${rate}`;
  }

  #line(text: string): void {
    if (this.#mode === "tty") {
      this.#draw(true);
      // The line goes below the table; finished rows stay printed above it and are forgotten.
      this.#drawn = 0;
      for (const [k, r] of this.#rows) if (r.finished !== undefined) this.#rows.delete(k);
    }
    this.#write(text);
  }

  #draw(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const lines = [...this.#rows.values()].map((r) => `${this.#format(r)}\x1b[K`);
    if (lines.length === 0) return;
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : "";
    this.#write(up + lines.join("\n"));
    this.#drawn = lines.length;
  }
}

function _shortRef(reference: string): string {
  return reference.startsWith("sha256:") ? reference.slice(0, 19) : reference;
}
