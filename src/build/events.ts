/**
 * Build progress events. The orchestrator reports what it does through one callback; the CLI
 * turns events into lines on stderr (or nothing with `--quiet`, or JSON with `--json`), and API
 * users can ignore or collect them. Keeping output out of the build keeps it a plain function.
 *
 * @module
 */

/** Something worth telling the user while building. */
export type BuildEvent =
  | { type: "info"; message: string }
  /** Details shown only with `--verbose` (sources of settings, excluded files…). */
  | { type: "detail"; message: string }
  | { type: "warning"; message: string }
  | {
    type: "layer";
    /** What the layer holds, e.g. `app files`. */
    name: string;
    digest: string;
    size: number;
    /**
     * `built` (written now), `cached` (reused), `deferred` (known to the cache, blob gone: built
     * only if the registry being pushed to lacks it), `base` (from the base image).
     */
    state: "built" | "cached" | "deferred" | "base";
  };

/** Receives build events. */
export type BuildEventSink = (event: BuildEvent) => void;

/**
 * A sink that drops every event.
 *
 * @example
 * ```ts
 * import { ignoreEvents } from "./events.ts";
 * ignoreEvents({ type: "info", message: "hello" });
 * ```
 */
export const ignoreEvents: BuildEventSink = () => {};
