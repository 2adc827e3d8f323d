/**
 * A small pool of `node:worker_threads` workers (Deno, Bun and Node all have the module) that
 * compress gzip blocks in parallel, shared by every gzip stream of the process, so parallel
 * layers share the cores instead of each starting their own threads.
 *
 * Robust by construction: a job is sent only to a worker that has said it is ready, the input
 * block is copied (not transferred) so it can be redone, and when workers can't start at all (a
 * single-file executable without the worker module, a sandbox without threads) or die, every
 * outstanding and future job runs in the main thread with the same function, so the bytes are
 * the same either way. Idle workers are `unref`'d so they never keep the process alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { setImmediate } from "node:timers";
import {
  DEFLATE_WORKER_MARK,
  deflateBlock,
  type DeflatedBlock,
  type DeflateJob,
  wholeBuffer,
} from "./_deflate_worker.ts";

/** At most this many workers, however many cores there are. */
const MAX_THREADS = 8;

interface Pending {
  id: number;
  job: DeflateJob;
  resolve: (block: DeflatedBlock) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  busy: Pending | undefined;
}

type Reply = { ready: true } | { id: number; deflated: ArrayBuffer; crc: number } | {
  id: number;
  error: string;
};

let threads = defaultThreads();
let slots: Slot[] = [];
let broken = false;
let nextId = 1;
const queue: Pending[] = [];

function defaultThreads(): number {
  const cores = (() => {
    try {
      return availableParallelism();
    } catch {
      return 1;
    }
  })();
  // One core: the main thread compresses; workers would only add copies.
  return cores <= 1 ? 0 : Math.min(cores, MAX_THREADS);
}

/**
 * How many worker threads compress blocks (0: the main thread does).
 *
 * @returns The configured thread count.
 *
 * @example
 * ```ts
 * import { deflateThreads } from "./_deflate_pool.ts";
 * console.assert(deflateThreads() >= 0);
 * ```
 */
export function deflateThreads(): number {
  return broken ? 0 : threads;
}

/**
 * Sets the number of worker threads (0 compresses in the main thread) and stops the current
 * workers once they have finished their jobs. Output bytes do not depend on it; tests and
 * benchmarks use it to compare.
 *
 * @param count Worker threads to use from now on; `undefined` restores the default.
 *
 * @example
 * ```ts
 * import { setDeflateThreads } from "./_deflate_pool.ts";
 * setDeflateThreads(0); // main thread only
 * setDeflateThreads(undefined); // back to one per core
 * ```
 */
export function setDeflateThreads(count: number | undefined): void {
  threads = count === undefined ? defaultThreads() : Math.max(0, Math.min(count, MAX_THREADS));
  broken = false;
  const old = slots;
  slots = [];
  for (const slot of old) {
    if (slot.busy) queue.unshift(slot.busy);
    void slot.worker.terminate();
  }
  pump();
}

/**
 * Compresses a block on a worker (or in the main thread when there are none).
 *
 * @param job The block; its bytes are copied to the worker, so the caller may keep them.
 * @returns The deflated block.
 *
 * @example
 * ```ts
 * import { runDeflate } from "./_deflate_pool.ts";
 * const data = new TextEncoder().encode("abcabcabc");
 * const out = await runDeflate({ data, dictionary: new Uint8Array(0), last: true, level: 6 });
 * console.assert(out.deflated.length > 0);
 * ```
 */
export function runDeflate(job: DeflateJob): Promise<DeflatedBlock> {
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, job, resolve, reject });
    pump();
  });
}

function runInline(p: Pending): void {
  try {
    p.resolve(deflateBlock(p.job));
  } catch (err) {
    p.reject(err as Error);
  }
}

function pump(): void {
  if (threads === 0 || broken) {
    // Main thread: one job per macrotask, so other streams and I/O get a turn in between.
    const p = queue.shift();
    if (p) {
      setImmediate(() => {
        runInline(p);
        pump();
      });
    }
    return;
  }
  while (slots.length < threads && queue.length > 0) {
    if (!spawn()) return;
  }
  for (const slot of slots) {
    if (queue.length === 0) return;
    if (!slot.ready || slot.busy) continue;
    const p = queue.shift()!;
    slot.busy = p;
    slot.worker.ref();
    const { data, dictionary, last, level } = p.job;
    slot.worker.postMessage({
      id: p.id,
      data: wholeBuffer(data),
      dictionary: wholeBuffer(dictionary),
      last,
      level,
    });
  }
}

let workerUrlOverride: URL | undefined;

/**
 * Points new workers at another module (tests use a missing file to exercise the main-thread
 * fallback); `undefined` restores `_deflate_worker.ts` (`.js` in the npm build).
 *
 * @param url The worker module, or `undefined` for the default.
 *
 * @example
 * ```ts
 * import { _setDeflateWorkerUrl, setDeflateThreads } from "./_deflate_pool.ts";
 * _setDeflateWorkerUrl(new URL("file:///nonexistent.js"));
 * setDeflateThreads(2); // the workers fail to start; blocks are compressed in the main thread
 * _setDeflateWorkerUrl(undefined);
 * ```
 */
export function _setDeflateWorkerUrl(url: URL | undefined): void {
  workerUrlOverride = url;
}

function spawn(): boolean {
  const url = workerUrlOverride ?? new URL(
    import.meta.url.endsWith(".ts") ? "./_deflate_worker.ts" : "./_deflate_worker.js",
    import.meta.url,
  );
  let worker: Worker;
  try {
    worker = new Worker(url, { workerData: DEFLATE_WORKER_MARK });
  } catch {
    fail();
    return false;
  }
  const slot: Slot = { worker, ready: false, busy: undefined };
  slots.push(slot);
  worker.on("message", (msg: Reply) => onReply(slot, msg));
  worker.on("error", () => slots.includes(slot) && fail());
  worker.on("exit", () => slots.includes(slot) && fail());
  // The worker says when its module is loaded; until then it gets nothing.
  worker.postMessage({ ping: true });
  return true;
}

function onReply(slot: Slot, msg: Reply): void {
  if ("ready" in msg) {
    slot.ready = true;
  } else {
    const p = slot.busy;
    slot.busy = undefined;
    if (p && p.id === msg.id) {
      if ("error" in msg) p.reject(new Error(msg.error));
      else p.resolve({ deflated: new Uint8Array(msg.deflated), crc: msg.crc });
    }
  }
  pump();
  // Only a worker with a job (or one starting up for queued jobs) keeps the process alive.
  if (!slot.busy && slots.includes(slot)) slot.worker.unref();
}

/** Workers can't run here: redo their jobs and everything after in the main thread. */
function fail(): void {
  broken = true;
  const old = slots;
  slots = [];
  for (const slot of old) {
    if (slot.busy) queue.unshift(slot.busy);
    void slot.worker.terminate();
  }
  pump();
}
