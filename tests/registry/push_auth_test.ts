/**
 * Push against real registries with authentication: `auth.token` mode with a token server that
 * grants per repository and action (pull-only users, scope upgrades, cross-repository mounts
 * with and without pull access on the source), and htpasswd Basic auth behind TLS with a CA made
 * here with openssl (trusted by `--ca-file`, and by `NODE_EXTRA_CA_CERTS` in a child process).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { main } from "../../cli.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { credentialChain } from "../../src/registry/credential_chain.ts";
import type { PushEvent } from "../../src/registry/progress.ts";
import { pushImage } from "../../src/registry/push.ts";
import { RegistryError } from "../../src/registry/registry_error.ts";
import { readOciLayout } from "../../src/store/layout_reader.ts";
import { makeImage } from "../integration/_push_images.ts";
import {
  baseLayoutPath,
  pushLayoutToRegistry,
  run,
  startRegistry,
  type TestRegistry,
} from "../integration/_registry.ts";

const PASSWORD = "s3cret-Pa55word!";
let tokenRegistry: TestRegistry;
let tlsRegistry: TestRegistry;
let work: string;
let base: { dir: string; tag: string };
let ca: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pycontainer-push-auth-"));
  base = { dir: baseLayoutPath(), tag: "bookworm" };
  tokenRegistry = await startRegistry({
    token: {
      users: { admin: "admin-pass", pusher: "push-pass", reader: "read-pass" },
      grant: (user, repository, actions) => {
        if (user === "admin") return actions;
        if (user === "pusher" && repository.startsWith("team/")) return actions;
        if (repository.startsWith("base/")) return actions.filter((a) => a === "pull");
        if (user === "reader") return actions.filter((a) => a === "pull");
        return [];
      },
    },
  });
  for (const repo of ["base/python", "private/python"]) {
    await pushLayoutToRegistry(base.dir, base.tag, `${tokenRegistry.host}/${repo}:bookworm`, {
      creds: "admin:admin-pass",
    });
  }
  const certs = makeCertificates(work);
  ca = certs.ca;
  tlsRegistry = await startRegistry({
    htpasswd: { tester: PASSWORD },
    tls: { certificate: certs.cert, key: certs.key },
  });
});
after(async () => {
  await tokenRegistry?.stop();
  await tlsRegistry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A CA and a server certificate for 127.0.0.1 signed by it. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const p = (f: string) => join(dir, f);
  const steps: string[][] = [
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=pycontainer test CA",
    ],
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      p("server.key"),
      "-out",
      p("server.csr"),
      "-subj",
      "/CN=127.0.0.1",
    ],
  ];
  for (const args of steps) {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  }
  spawnSync("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ${p("ext")}`]);
  const sign = spawnSync("openssl", [
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("server.pem"),
    "-days",
    "1",
    "-extfile",
    p("ext"),
  ], { encoding: "utf8" });
  if (sign.status !== 0) throw new Error(`openssl x509 failed: ${sign.stderr}`);
  return { ca: p("ca.pem"), cert: p("server.pem"), key: p("server.key") };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
    env: { PATH: process.env.PATH, HOME: join(work, "home"), CI: "true", ...env },
    isTTY: false,
  });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

async function layout(name: string, baseName?: string) {
  const dir = join(work, name);
  const made = await makeImage(dir, "v1", {
    base,
    files: { "data/marker.txt": `${name}\n` },
    ...(baseName ? { baseName } : {}),
  });
  return { dir, ...made, layout: await readOciLayout(dir) };
}

/**
 * The TLS registry under a name the client does not treat as loopback: `127.1` is 127.0.0.1 to
 * the URL parser, so the client uses HTTPS exactly as for a remote registry.
 */
function tlsName(): string {
  return `127.1:${tlsRegistry.port}`;
}

test("a pull-only user's push is refused with a message naming registry, operation and status", async () => {
  const img = await layout("denied");
  const client = new RegistryClient({
    credentials: credentialChain({
      env: { HOME: join(work, "none"), PATH: "" },
      pushRegistries: [tokenRegistry.host],
      username: "reader",
      password: "read-pass",
    }),
  });
  await assert.rejects(
    pushImage(img.layout.blobs, img.manifest, [`${tokenRegistry.host}/team/app:1`], { client }),
    (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.match(
        e.message,
        new RegExp(`^registry ${tokenRegistry.host}: .* team/app failed: HTTP 401`),
      );
      assert.equal(e.status, 401);
      assert.match(e.hint ?? "", /you may not push to .*team\/app/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /read-pass/);
      return true;
    },
  );
});

test("a pull token is upgraded for push, and base layers are mounted with pull scope on the source", async () => {
  const img = await layout("mount", `${tokenRegistry.host}/base/python:bookworm`);
  const requests = tokenRegistry.tokenServer!.requests;
  requests.length = 0;
  const client = new RegistryClient({
    credentials: credentialChain({
      env: {
        HOME: join(work, "none"),
        PATH: "",
        PYCONTAINER_REGISTRY_USERNAME: "pusher",
        PYCONTAINER_REGISTRY_PASSWORD: "push-pass",
      },
      pushRegistries: [tokenRegistry.host],
    }),
  });
  // A pull first (as a build does for its base), then the push needs more scope.
  await client.getManifest({ registry: tokenRegistry.host, repository: "team/app" }, "1").catch(
    () => {},
  );
  const events: PushEvent[] = [];
  const r = await pushImage(img.layout.blobs, img.manifest, [`${tokenRegistry.host}/team/app:1`], {
    client,
    onEvent: (e) => events.push(e),
  });
  assert.equal(
    r.repositories[0]!.reference,
    `${tokenRegistry.host}/team/app@${img.manifest.digest}`,
  );
  const scopes = requests.map((q) => q.scopes.join(" "));
  assert.ok(scopes.includes("repository:team/app:pull"), scopes.join(" | "));
  assert.ok(scopes.includes("repository:team/app:pull,push"), scopes.join(" | "));
  assert.ok(
    scopes.includes("repository:base/python:pull repository:team/app:pull,push"),
    scopes.join(" | "),
  );
  assert.ok(requests.every((q) => q.user === "pusher"));
  const mounted = events.filter((e) => e.type === "blob" && e.state === "mounted");
  assert.equal(mounted.length, 1); // the base image's one layer
  assert.equal(r.blobs.mounted, 1);
  assert.equal(r.blobs.uploaded, 2); // our layer and the config
});

test("a mount from a repository the user can't pull falls back to an upload", async () => {
  const img = await layout("nomount", `${tokenRegistry.host}/private/python:bookworm`);
  const client = new RegistryClient({
    credentials: credentialChain({
      env: { HOME: join(work, "none"), PATH: "" },
      pushRegistries: [tokenRegistry.host],
      username: "pusher",
      password: "push-pass",
    }),
  });
  const r = await pushImage(
    img.layout.blobs,
    img.manifest,
    [`${tokenRegistry.host}/team/other:1`],
    {
      client,
    },
  );
  assert.equal(r.blobs.mounted, 0);
  assert.equal(r.blobs.uploaded, 3);
  const inspected = JSON.parse(
    await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--creds",
      "admin:admin-pass",
      `docker://${tokenRegistry.host}/team/other:1`,
    ]),
  );
  assert.equal(inspected.Digest, img.manifest.digest);
});

test("push to an htpasswd registry behind TLS trusts --ca-file; --verbose names the source, never the secret", async () => {
  const img = await layout("tls");
  const r = await cli(
    ["push", "--ca-file", ca, "--verbose", img.dir, `${tlsName()}/secure/app:1`],
    {
      PYCONTAINER_REGISTRY_USERNAME: "tester",
      PYCONTAINER_REGISTRY_PASSWORD: PASSWORD,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${tlsName()}/secure/app@${img.manifest.digest}`);
  assert.match(
    r.stderr,
    /credentials for 127\.1:\d+: PYCONTAINER_REGISTRY_USERNAME\/PYCONTAINER_REGISTRY_PASSWORD/,
  );
  assert.match(
    r.stderr,
    /PUT https:\/\/127\.(?:1|0\.0\.1):\d+\/v2\/secure\/app\/manifests\/1 → 201/,
  );
  const all = r.stdout + r.stderr;
  assert.ok(!all.includes(PASSWORD));
  assert.ok(!all.includes(btoa(`tester:${PASSWORD}`)));
  const inspected = JSON.parse(
    await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--creds",
      `tester:${PASSWORD}`,
      `docker://${tlsRegistry.host}/secure/app:1`,
    ]),
  );
  assert.equal(inspected.Digest, img.manifest.digest);
});

test("without the CA the TLS registry is refused with a TLS message", async () => {
  const img = await layout("tls-untrusted");
  const r = await cli(["push", img.dir, `${tlsName()}/secure/app:2`], {
    PYCONTAINER_REGISTRY_USERNAME: "tester",
    PYCONTAINER_REGISTRY_PASSWORD: PASSWORD,
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`error: cannot reach registry ${tlsName().replace(".", "\\.")} `),
  );
  assert.ok(!r.stderr.includes(PASSWORD));
});

test("NODE_EXTRA_CA_CERTS is honoured by the runtime running the CLI", async () => {
  const img = await layout("tls-env");
  // cli.ts here, cli.js in the compiled npm test run under Node.
  const cliPath = join(
    import.meta.dirname!,
    "..",
    "..",
    import.meta.url.endsWith(".ts") ? "cli.ts" : "cli.js",
  );
  const isDeno = "Deno" in globalThis;
  const args = isDeno
    ? ["run", "-A", cliPath, "push", "-q", img.dir, `${tlsName()}/secure/env:1`]
    : [cliPath, "push", "-q", img.dir, `${tlsName()}/secure/env:1`];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      HOME: join(work, "home"),
      NODE_EXTRA_CA_CERTS: ca,
      REGISTRY_USERNAME: "tester",
      REGISTRY_PASSWORD: PASSWORD,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += String(d)));
  child.stderr.on("data", (d) => (err += String(d)));
  const code = await new Promise<number | null>((r) => child.once("close", r));
  assert.equal(code, 0, err);
  assert.equal(out.trim(), `${tlsName()}/secure/env@${img.manifest.digest}`);
});

test("a wrong password is reported as a 401 with a hint, and the password is not shown", async () => {
  const img = await layout("wrong");
  const r = await cli(
    ["push", "--ca-file", ca, "--verbose", img.dir, `${tlsName()}/secure/app:3`],
    {
      REGISTRY_USERNAME: "tester",
      REGISTRY_PASSWORD: "not-the-password",
    },
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: registry 127\.1:\d+: .* failed: HTTP 401/);
  assert.match(
    r.stderr,
    /hint: the credentials for 127\.1:\d+ from REGISTRY_USERNAME\/REGISTRY_PASSWORD were refused/,
  );
  assert.match(r.stderr, /credentials for 127\.1:\d+: REGISTRY_USERNAME\/REGISTRY_PASSWORD/);
  assert.ok(!r.stderr.includes("not-the-password"));
  assert.ok(!r.stderr.includes(btoa("tester:not-the-password")));
});

test("an unknown registry host is named in the error", async () => {
  const img = await layout("unknown");
  const r = await cli(["push", img.dir, "registry.invalid/acme/app:1"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: cannot reach registry registry\.invalid \(check blob sha256:[0-9a-f]{12} in acme\/app\)/,
  );
  assert.match(r.stderr, /hint: check the host name/);
});

test("a server answering HTML instead of the registry API is called out", async () => {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(req.url === "/v2/" ? 200 : 404, { "content-type": "text/html" });
    res.end("<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const img = await layout("html");
    const r = await cli(["push", img.dir, `127.0.0.1:${port}/acme/app:1`]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `error: registry 127\\.0\\.0\\.1:${port}: start upload of blob sha256:[0-9a-f]{12} to acme/app failed: HTTP 404 \\(the response is an HTML page, not a registry API answer; is this really a registry\\?\\)`,
      ),
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("login stores credentials that a later push uses; logout removes them", async () => {
  const dockerConfig = join(work, "docker-config");
  const env = { DOCKER_CONFIG: dockerConfig };
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io = {
    stdout: (s: string) => stdout.push(s),
    stderr: (s: string) => stderr.push(s),
    env: { PATH: process.env.PATH, HOME: join(work, "home"), ...env },
    isTTY: false,
    stdin: () => Promise.resolve(`${PASSWORD}\n`),
  };
  const code = await main(
    ["login", tlsName(), "-u", "tester", "--password-stdin", "--ca-file", ca],
    io,
  );
  assert.equal(code, 0, stderr.join("\n"));
  assert.match(stderr.join("\n"), /login succeeded/);
  const img = await layout("after-login");
  const r = await cli([
    "push",
    "--ca-file",
    ca,
    "--verbose",
    img.dir,
    `${tlsName()}/secure/login:1`,
  ], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /credentials for 127\.1:\d+: .*config\.json \(auths\["127\.1:\d+"\]\)/);
  assert.equal(await main(["logout", tlsName()], io), 0);
  const after = await cli(["push", "--ca-file", ca, img.dir, `${tlsName()}/secure/login:2`], env);
  assert.equal(after.code, 1);
  assert.match(after.stderr, /requires a login/);
  await writeFile(join(work, "unused"), "");
});

test("build pulls its base from a TLS registry with a private CA only with --ca-file", async () => {
  const creds = {
    PYCONTAINER_REGISTRY_USERNAME: "tester",
    PYCONTAINER_REGISTRY_PASSWORD: PASSWORD,
  };
  const baseRef = `${tlsName()}/secure/python:base`;
  const pushed = await cli(
    ["push", "--ca-file", ca, "--image", base.tag, base.dir, baseRef],
    creds,
  );
  assert.equal(pushed.code, 0, pushed.stderr);
  const project = join(work, "tls-build-project");
  await mkdir(project, { recursive: true });
  await writeFile(join(project, "pyproject.toml"), '[project]\nname = "tlsapp"\nversion = "1"\n');
  await writeFile(join(project, "app.py"), 'print("hi")\n');
  // Pulls take credentials from the Docker config (env credentials are for push targets only).
  const dockerDir = join(work, "tls-build-docker");
  await mkdir(dockerDir, { recursive: true });
  const auth = Buffer.from(`tester:${PASSWORD}`).toString("base64");
  await writeFile(
    join(dockerDir, "config.json"),
    JSON.stringify({ auths: { [tlsName()]: { auth } } }),
  );
  const env = { PYCONTAINER_CACHE_DIR: join(work, "tls-build-cache"), DOCKER_CONFIG: dockerDir };
  const untrusted = await cli(["build", "--context", project, "--base-image", baseRef], env);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /--ca-file/);
  assert.ok(!untrusted.stderr.includes(PASSWORD));
  const trusted = await cli(
    ["build", "--context", project, "--base-image", baseRef, "--ca-file", ca, "--json"],
    env,
  );
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(
    JSON.parse(trusted.stdout).base[0].reference,
    `127.1:${tlsRegistry.port}/secure/python:base`,
  );
});
