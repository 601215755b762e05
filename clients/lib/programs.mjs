// Runs a client program (programs/*.mjs) as its own process, the way an application runs: its
// environment holds only its own settings and NODE_EXTRA_CA_CERTS, never the server's key.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENTS = dirname(dirname(fileURLToPath(import.meta.url)));

/** Resolves with { lines, stdout, stderr, code } once the program exits (killed after timeoutMs). */
export function runProgram(name, { certificate, env, timeoutMs = 30_000 }) {
  const child = spawn(process.execPath, [join(CLIENTS, 'programs', name)], {
    cwd: CLIENTS,
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: certificate, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    resolve({ lines, stdout, stderr, code });
  }));
}

/** The events a program received, in order. */
export const events = (run) => run.lines.filter((l) => l.kind === 'event').map((l) => l.event);
export const ofType = (run, type) => events(run).filter((e) => e.type === type);
