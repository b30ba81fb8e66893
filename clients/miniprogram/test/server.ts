// The real server for the kit's tests: the binary `cargo build` made, on a fresh SQLite database
// in a folder of its own, on a free loopback port; and the command line that creates staff.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repository = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** The server binary: VENUECODE_BIN, or the debug build in CARGO_TARGET_DIR (or target/). */
function binary(): string {
  if (process.env.VENUECODE_BIN) return process.env.VENUECODE_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repository, "target");
  return join(resolve(repository, target), "debug", "venuecode");
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

export interface RunningServer {
  baseUrl: string;
  /** Creates a staff account on the command line, as an administrator does. */
  createStaff(username: string, role: string, region: string, password: string): void;
  stop(): Promise<void>;
}

export async function startServer(): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "venuecode-kit-"));
  const port = await freePort();
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: join(dataDir, "venuecode.db"),
    APP_PORT: String(port),
    VILLAGE_PROVINCES: "none",
    RUST_LOG: "warn",
  };
  const server: ChildProcess = spawn(binary(), ["serve"], { cwd: repository, env, stdio: ["ignore", "ignore", "inherit"] });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 150 || server.exitCode !== null) throw new Error(`the server at ${binary()} did not start`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    baseUrl,
    createStaff(username, role, region, password) {
      const made = spawnSync(binary(), ["staff", "create", "--username", username, "--role", role, "--region", region], {
        cwd: repository,
        env,
        input: `${password}\n`,
        encoding: "utf8",
      });
      if (made.status !== 0) throw new Error(`staff create failed: ${made.stderr}`);
    },
    async stop() {
      server.kill("SIGTERM");
      await new Promise((done) => server.once("exit", done));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid 18-character resident ID number: region, birth date, sequence, check character. */
export function residentId(region: string, born: string, sequence: number): string {
  const body = `${region}${born.replaceAll("-", "")}${String(sequence).padStart(3, "0")}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const total = [...body].reduce((sum, digit, i) => sum + Number(digit) * (weights[i] ?? 0), 0);
  return body + ("10X98765432"[total % 11] ?? "");
}
