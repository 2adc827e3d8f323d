/**
 * The pycontainer version, kept equal to `deno.json`'s `version` (a test checks it). It is part
 * of layer cache keys and of `--version`.
 *
 * @module
 */

/** The pycontainer version. */
export const VERSION = "0.1.0";
