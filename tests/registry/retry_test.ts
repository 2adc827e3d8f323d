import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, isRetryableStatus, retry, retryAfterMs } from "../../src/registry/retry.ts";

test("retry() retries retryable outcomes with growing delays, then returns the last", async () => {
  const delays: number[] = [];
  let calls = 0;
  const value = await retry(() => Promise.resolve(++calls), {
    attempts: 4,
    baseDelayMs: 100,
    retryable: (o) => o.ok && o.value < 10,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
  assert.equal(value, 4, "stops after 4 attempts and returns the last value");
  assert.equal(delays.length, 3);
  assert.ok(delays[0]! >= 50 && delays[0]! <= 100, `${delays}`);
  assert.ok(delays[2]! >= 200 && delays[2]! <= 400, `${delays}`);
});

test("retry() rethrows a non-retryable error at once", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new RangeError("fatal"));
    }, {
      retryable: (o) => !o.ok && !(o.error instanceof RangeError),
      sleep: () => Promise.resolve(),
    }),
    RangeError,
  );
  assert.equal(calls, 1);
});

test("retry() waits the delay the caller names (Retry-After), capped", async () => {
  const delays: number[] = [];
  let calls = 0;
  await retry(() => Promise.resolve(++calls), {
    maxDelayMs: 5000,
    retryable: (o) => (o.ok && o.value === 1 ? 3000 : o.ok && o.value === 2 ? 60_000 : false),
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
  assert.deepEqual(delays, [3000, 5000]);
});

test("retry() recovers after transient errors and reports each retry", async () => {
  const seen: number[] = [];
  let calls = 0;
  const v = await retry(
    () => (++calls < 3 ? Promise.reject(new TypeError("reset")) : Promise.resolve("ok")),
    {
      baseDelayMs: 1,
      retryable: (o) => !o.ok,
      onRetry: ({ attempt }) => seen.push(attempt),
    },
  );
  assert.equal(v, "ok");
  assert.deepEqual(seen, [1, 2]);
});

test("backoffDelay() doubles and caps, with jitter between half and all", () => {
  assert.equal(backoffDelay(1, 100, 1000, 0), 50);
  assert.equal(backoffDelay(1, 100, 1000, 0.999), 100);
  assert.equal(backoffDelay(4, 100, 1000, 0), 400);
  assert.equal(backoffDelay(10, 100, 1000, 0), 500);
});

test("isRetryableStatus() and retryAfterMs() classify responses", () => {
  assert.deepEqual([408, 429, 500, 502, 503, 504].filter(isRetryableStatus).length, 6);
  assert.ok(![200, 400, 401, 403, 404, 501].some(isRetryableStatus));
  assert.equal(retryAfterMs("7"), 7000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs("soon"), undefined);
  assert.equal(retryAfterMs(null), undefined);
});
