/**
 * Test helper: runs the CLI in-process with captured output.
 */
import { main } from "../../cli.ts";

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pycontainer <args>` in-process.
 *
 * @param args Arguments after the program name.
 * @param env Extra environment variables (merged over the process's).
 * @returns Exit code and captured output.
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
    env: { ...process.env, ...env },
    isTTY: false,
  });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}
