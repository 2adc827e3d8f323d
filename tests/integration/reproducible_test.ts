/**
 * Reproducibility (issue 5): the same project built under Deno, Bun and the compiled npm
 * package on Node gives byte-identical images (manifest digests), and a fixed tiny fixture has
 * a golden digest so any accidental change to tar, gzip or JSON serialisation is caught.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname!, "..", "..");
const bin = join(root, "node_modules", ".bin");
const fixtures = join(root, "tests", "fixtures");
let work: string;
let nodeCli: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-repro-"));
  const out = join(work, "npm");
  const built = spawnSync(join(bin, "deno"), [
    "run",
    "-A",
    join(root, "npm-build.ts"),
    "--out",
    out,
    "--no-tests",
  ], {
    encoding: "utf8",
  });
  assert.equal(built.status, 0, built.stderr);
  await symlink(join(root, "node_modules"), join(out, "node_modules"));
  nodeCli = join(out, "esm", "cli.js");
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

const runtimes = () => ({
  deno: [join(bin, "deno"), "run", "-A", join(root, "cli.ts")],
  bun: [join(bin, "bun"), join(root, "cli.ts")],
  node: ["node", nodeCli],
});

/** Builds `project` with each runtime (separate copies, separate caches); returns the digests. */
async function buildEverywhere(project: string, args: string[]): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const [name, [cmd, ...pre]] of Object.entries(runtimes())) {
    const dir = join(work, `${name}-${project.split("/").pop()}`);
    await cp(project, dir, { recursive: true });
    const r = spawnSync(cmd!, [...pre, "build", "--context", dir, "-q", ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        PYCONTAINER_CACHE_DIR: join(work, `cache-${name}`),
        SOURCE_DATE_EPOCH: "1700000000",
      },
    });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    digests[name] = r.stdout.trim();
  }
  return digests;
}

test("build gives the same manifest digest under Deno, Bun and Node (app on scratch)", async () => {
  const d = await buildEverywhere(join(fixtures, "projects", "src_scripts"), [
    "--base-image",
    "scratch",
  ]);
  assert.match(d.deno!, /^sha256:[0-9a-f]{64}$/);
  assert.equal(d.bun, d.deno);
  assert.equal(d.node, d.deno);
});

test("build of the fixed hello fixture has the golden digest", async () => {
  // If this changes on purpose (layer format, config fields), update it in the same commit and
  // say why: every user's image digest changes with it.
  const d = await buildEverywhere(join(fixtures, "e2e", "golden"), [
    "--base-image",
    "scratch",
    "--tag",
    "golden:1",
  ]);
  assert.deepEqual(new Set(Object.values(d)).size, 1, JSON.stringify(d));
  assert.equal(d.deno, GOLDEN);
});

const GOLDEN = "sha256:a5fccb70d00060f84057cb08205368446f74236974478c0f0389530916385d47";
