/**
 * Retrying with exponential backoff and jitter, for anything that talks to a network: the
 * caller says which outcomes are worth another try (a 503, a reset connection) and may name the
 * delay itself (a 429's `Retry-After`). Small on purpose, so registry pulls, pushes and
 * package-index downloads all share one policy.
 *
 * @module
 */

/** The outcome of one attempt. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** How to retry. */
export interface RetryOptions<T> {
  /** Total attempts including the first (default 4). */
  attempts?: number;
  /** Delay before the first retry, doubled each time (default 250 ms). */
  baseDelayMs?: number;
  /** Upper bound for one delay (default 8 s). */
  maxDelayMs?: number;
  /**
   * Decides whether an outcome deserves another attempt: `false` to stop, `true` to wait the
   * backoff delay, or a number of milliseconds to wait (e.g. from `Retry-After`).
   */
  retryable: (outcome: Attempt<T>) => boolean | number;
  /** Called before each wait, e.g. for `--verbose` output. */
  onRetry?: (info: { attempt: number; delayMs: number; outcome: Attempt<T> }) => void;
  /** Replaces `setTimeout` (tests). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs an operation until it gives an outcome that isn't retryable or attempts run out. The
 * last outcome is returned (or its error thrown) as is.
 *
 * @param operation The work; receives the attempt number, starting at 1.
 * @param options Policy and retryability test.
 * @returns The value of the last attempt.
 * @throws The error of the last attempt.
 *
 * @example Retrying a flaky operation
 * ```ts
 * import { retry } from "./retry.ts";
 * let calls = 0;
 * const v = await retry(async () => ++calls, { retryable: (o) => o.ok && o.value < 3, baseDelayMs: 1 });
 * console.assert(v === 3);
 * ```
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions<T>,
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1;; attempt++) {
    let outcome: Attempt<T>;
    try {
      outcome = { ok: true, value: await operation(attempt) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const decision = attempt < attempts ? options.retryable(outcome) : false;
    if (decision === false) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    const delayMs = typeof decision === "number"
      ? Math.min(decision, options.maxDelayMs ?? 8000)
      : backoffDelay(attempt, options.baseDelayMs ?? 250, options.maxDelayMs ?? 8000);
    options.onRetry?.({ attempt, delayMs, outcome });
    await sleep(delayMs);
  }
}

/**
 * The delay before retry number `attempt`: exponential with "equal jitter"
 * (between half and all of `base × 2^(attempt-1)`, capped at `max`).
 *
 * @param attempt The attempt that just failed, from 1.
 * @param baseMs The first delay.
 * @param maxMs The cap.
 * @param random A random number in [0, 1) (default `Math.random()`).
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./retry.ts";
 * console.assert(backoffDelay(3, 100, 10_000, 0) === 200);
 * ```
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: number = Math.random(),
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/**
 * Tells whether an HTTP status is worth retrying: 408, 429, 500, 502, 503, 504.
 *
 * @param status The HTTP status.
 * @returns True for transient failures.
 *
 * @example
 * ```ts
 * import { isRetryableStatus } from "./retry.ts";
 * console.assert(isRetryableStatus(503) && !isRetryableStatus(404));
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 ||
    status === 504;
}

/**
 * Reads a `Retry-After` header (seconds or an HTTP date) as milliseconds from now.
 *
 * @param value The header value.
 * @param now The current time in ms (default `Date.now()`).
 * @returns Milliseconds to wait, or undefined when absent or unparseable.
 *
 * @example
 * ```ts
 * import { retryAfterMs } from "./retry.ts";
 * console.assert(retryAfterMs("2") === 2000);
 * ```
 */
export function retryAfterMs(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
