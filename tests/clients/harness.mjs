// Starts a live klaxon node for the JS SDK tests (node:test). Mirrors klaxon_harness.py.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ACCOUNT = '000000000000';

export async function startNode(region = 'us-east-1') {
  const dataDir = mkdtempSync(join(tmpdir(), 'klaxon-js-'));
  const portFile = join(dataDir, 'port');
  const bin = process.env.KLAXON_BIN || join(root, 'build', 'klaxon');
  const log = openSync(join(dataDir, 'klaxon.log'), 'a');
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--region', region,
    '--port-file', portFile], { stdio: ['ignore', log, log] });
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`klaxon exited with ${proc.exitCode}`);
    if (existsSync(portFile)) {
      const text = readFileSync(portFile, 'utf8').trim();
      if (text) {
        const port = Number(text);
        return {
          endpoint: `http://127.0.0.1:${port}`,
          region,
          clientConfig: {
            endpoint: `http://127.0.0.1:${port}`, region,
            credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          },
          async stop() {
            proc.kill('SIGTERM');
            await new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.on('exit', resolve)));
            rmSync(dataDir, { recursive: true, force: true });
          },
        };
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGKILL');
  throw new Error('klaxon did not start within 30 s');
}

// Polls fn() (sync or async) until it returns a truthy value and returns that value; throws if
// none comes within timeoutMs.
export async function waitFor(fn, timeoutMs = 15000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
