/**
 * A small pool of `node:worker_threads` workers (Deno, Bun and Node all have the module) that
 * compress gzip blocks in parallel, shared by every gzip stream of the process, so parallel
 * layers share the cores instead of each starting their own threads.
 *
 * Memory: block buffers are recycled. A job's input buffer is transferred (not copied) to the
 * worker, which transfers it back with the result; it then goes to a free list that
 * {@linkcode takeBlockBuffer} hands out again. Measured on Deno 2.9: sending fresh 1 MiB buffers
 * to two workers peaks at 267 MB RSS when copied, 159 MB when transferred, 81 MB when recycled
 * (300 blocks) — V8 frees unreferenced ArrayBuffers late.
 *
 * Robustness: a job goes only to a worker that has said it is ready, so when workers can't start
 * at all (a single-file executable without the worker module, a sandbox without threads), every
 * job runs in the main thread with the same function and the same bytes result. A worker dying
 * in the middle of a job fails that job (its input was transferred away) and the rest go to the
 * main thread. Idle workers are `unref`'d so they never keep the process alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { setImmediate } from "node:timers";
import { PycontainerError } from "../errors.ts";
import {
  DEFLATE_WORKER_MARK,
  deflateBlock,
  type DeflatedBlock,
  type DeflateJob,
  wholeBuffer,
} from "./_deflate_worker.ts";

/** At most this many workers, however many cores there are. */
const MAX_THREADS = 8;
/** Free buffers kept per size; more than the blocks in flight of a few parallel streams. */
const MAX_FREE_BUFFERS = 16;

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
  /** Replaced (thread count changed or workers failed): finishes its job, then stops. */
  retired: boolean;
}

type Reply =
  | { ready: true }
  | { id: number; deflated: ArrayBuffer; crc: number; input: ArrayBuffer }
  | { id: number; error: string; input: ArrayBuffer };

let threads = defaultThreads();
let slots: Slot[] = [];
let broken = false;
let nextId = 1;
const queue: Pending[] = [];
/** Jobs given to {@linkcode runDeflate} and not finished yet (queued, on a worker or inline). */
let unfinished = 0;
const freeBuffers = new Map<number, ArrayBuffer[]>();
/** Blocks compressed so far, by where (see {@linkcode deflateStats}). */
const counts = { workers: 0, mainThread: 0 };

function defaultThreads(): number {
  const cores = (() => {
    try {
      return availableParallelism();
    } catch {
      return 1;
    }
  })();
  // One core: the main thread compresses; workers would only add overhead.
  return cores <= 1 ? 0 : Math.min(cores, MAX_THREADS);
}

/**
 * How many worker threads compress blocks (0: the main thread does).
 *
 * @returns The configured thread count, 0 once workers have failed to start.
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
 * Sets the number of worker threads (0 compresses in the main thread). When the number changes
 * (or the workers had failed) the current workers finish their jobs and stop, and new ones start
 * on demand. Output bytes never depend on it; tests and benchmarks use it to compare.
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
  const wanted = count === undefined ? defaultThreads() : Math.max(0, Math.min(count, MAX_THREADS));
  if (wanted === threads && !broken) return; // keep warm workers
  threads = wanted;
  broken = false;
  retireAll();
  pump();
}

/**
 * A buffer for a block of `size` bytes, recycled from finished jobs when one is free.
 *
 * @param size Byte length wanted.
 * @returns A zero-offset view of a buffer of exactly `size` bytes (contents unspecified).
 *
 * @example
 * ```ts
 * import { takeBlockBuffer } from "./_deflate_pool.ts";
 * console.assert(takeBlockBuffer(1024).byteLength === 1024);
 * ```
 */
export function takeBlockBuffer(size: number): Uint8Array {
  const buffer = freeBuffers.get(size)?.pop();
  return new Uint8Array(buffer ?? new ArrayBuffer(size));
}

function recycle(buffer: ArrayBuffer): void {
  if (buffer.byteLength === 0) return;
  const list = freeBuffers.get(buffer.byteLength) ?? [];
  if (list.length < MAX_FREE_BUFFERS) list.push(buffer);
  freeBuffers.set(buffer.byteLength, list);
}

/**
 * Compresses a block on a worker (or in the main thread when there are none). The pool takes
 * ownership of `job.data`'s whole buffer (it is transferred to the worker and later recycled by
 * {@linkcode takeBlockBuffer}), so the caller must not use it afterwards; give it a buffer from
 * {@linkcode takeBlockBuffer} or one of its own that it no longer needs.
 *
 * @param job The block (a zero-offset view), dictionary, last-block flag and level.
 * @returns The deflated block.
 *
 * @example
 * ```ts
 * import { runDeflate, takeBlockBuffer } from "./_deflate_pool.ts";
 * const data = takeBlockBuffer(9);
 * data.set(new TextEncoder().encode("abcabcabc"));
 * const out = await runDeflate({ data, dictionary: new Uint8Array(0), last: true, level: 6 });
 * console.assert(out.deflated.length > 0);
 * ```
 */
export function runDeflate(job: DeflateJob): Promise<DeflatedBlock> {
  unfinished++;
  return new Promise<DeflatedBlock>((resolve, reject) => {
    queue.push({ id: nextId++, job, resolve, reject });
    pump();
  }).finally(() => unfinished--);
}

/**
 * How many jobs given to {@linkcode runDeflate} have not finished: what the gzip streams' bound
 * on blocks in flight (and so on block buffers in use) keeps small. For tests.
 *
 * @returns Jobs queued or being compressed.
 *
 * @example
 * ```ts
 * import { _deflateJobsInFlight } from "./_deflate_pool.ts";
 * console.assert(_deflateJobsInFlight() >= 0);
 * ```
 */
export function _deflateJobsInFlight(): number {
  return unfinished;
}

/** Where blocks given to {@linkcode runDeflate} were compressed, since the process started. */
export interface DeflateStats {
  /** Blocks compressed on worker threads. */
  workerBlocks: number;
  /** Blocks compressed on the main thread (no cores to spare, or workers could not start). */
  mainThreadBlocks: number;
  /** True once workers failed to start or died: the main thread compresses from then on. */
  workersUnavailable: boolean;
}

/**
 * Counts of where blocks were compressed: how a build can tell (and `--verbose` show) whether
 * its layers really used the worker threads.
 *
 * @returns The counts since the process started.
 *
 * @example
 * ```ts
 * import { deflateStats } from "./_deflate_pool.ts";
 * const s = deflateStats();
 * console.assert(s.workerBlocks >= 0 && s.mainThreadBlocks >= 0);
 * ```
 */
export function deflateStats(): DeflateStats {
  return {
    workerBlocks: counts.workers,
    mainThreadBlocks: counts.mainThread,
    workersUnavailable: broken,
  };
}

function runInline(p: Pending): void {
  try {
    p.resolve(deflateBlock(p.job));
    counts.mainThread++;
  } catch (err) {
    p.reject(err as Error);
  } finally {
    if (p.job.data.byteOffset === 0) recycle(p.job.data.buffer as ArrayBuffer);
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
    const input = data.byteOffset === 0 ? data.buffer as ArrayBuffer : wholeBuffer(data);
    const dict = wholeBuffer(dictionary);
    slot.worker.postMessage(
      { id: p.id, data: input, length: data.length, dictionary: dict, last, level },
      input === dict ? [input] : [input, dict],
    );
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

/**
 * Where the worker module is: next to this one (`.ts` from source, `.js` in the npm package and
 * its bundled bin), or, in a `bun build --compile cli.ts src/runtime/_deflate_worker.ts`
 * executable, embedded at its source path under the executable's virtual root (this module's
 * URL is then the executable's, `file:///$bunfs/root/<name>`).
 */
function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.startsWith("file:///$bunfs/")) return new URL("./src/runtime/_deflate_worker.js", here);
  return new URL(here.endsWith(".ts") ? "./_deflate_worker.ts" : "./_deflate_worker.js", here);
}

function spawn(): boolean {
  const url = workerUrlOverride ?? defaultWorkerUrl();
  let worker: Worker;
  try {
    worker = new Worker(url, {
      workerData: DEFLATE_WORKER_MARK,
      // A small young generation collects each block's garbage sooner (measured when that was a
      // whole pako state per block: 200 MB layer on Deno, peak RSS 190 MB → 179 MB).
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    });
  } catch {
    fail();
    return false;
  }
  const slot: Slot = { worker, ready: false, busy: undefined, retired: false };
  slots.push(slot);
  worker.on("message", (msg: Reply) => onReply(slot, msg));
  worker.on("error", (err: unknown) => onDeath(slot, String((err as Error)?.message ?? err)));
  worker.on("exit", (code: number) => onDeath(slot, `exit code ${code}`));
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
    recycle(msg.input);
    if (p && p.id === msg.id) {
      if ("error" in msg) p.reject(new Error(msg.error));
      else {
        counts.workers++;
        p.resolve({ deflated: new Uint8Array(msg.deflated), crc: msg.crc });
      }
    }
  }
  if (slot.retired) {
    if (!slot.busy) void slot.worker.terminate();
    return;
  }
  pump();
  // Only a worker with a job (or one starting up for queued jobs) keeps the process alive.
  if (!slot.busy) slot.worker.unref();
}

function onDeath(slot: Slot, reason: string): void {
  const p = slot.busy;
  slot.busy = undefined;
  if (p) {
    p.reject(
      new PycontainerError(`a gzip worker thread stopped while compressing: ${reason}`, {
        hint: "retry the build; if it keeps failing, the machine may be short of memory",
      }),
    );
  }
  if (!slot.retired) fail();
}

/** Workers can't run here: the queued jobs and everything after go to the main thread. */
function fail(): void {
  broken = true;
  retireAll();
  pump();
}

function retireAll(): void {
  for (const slot of slots) {
    slot.retired = true;
    if (!slot.busy) void slot.worker.terminate();
  }
  slots = [];
}
