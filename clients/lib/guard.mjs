// The real guard: target/duck-e.jar with the project's config.yml, started from the repository
// root in a temporary data directory, on free ports, with the HTTPS connector on.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, readFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const SERVICE_TOKEN = `svc-${randomBytes(16).toString('hex')}`;
export const OPERATOR_TOKEN = `op-${randomBytes(16).toString('hex')}`;

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the jar and waits until GET /status answers 200.
 * @param root repository root (holds target/duck-e.jar and config.yml)
 * @param dir temporary directory for the data files and the log
 */
export async function startGuard({ root, dir, upstreamUrl, serverKey, tls, env = {}, startTimeoutMs = 90_000 }) {
  const jar = join(root, 'target', 'duck-e.jar');
  if (!existsSync(jar)) throw new Error(`${jar} is missing: build it first (mvn -B package)`);
  const ports = { app: await freePort(), admin: await freePort(), grid: await freePort(), tls: await freePort() };
  const logFile = join(dir, 'guard.log');
  const log = openSync(logFile, 'w');
  // a clean environment: nothing of the caller's (keys, tokens, DUCKE_*) leaks into the node
  const childEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME ?? dir, LANG: 'C.UTF-8',
    ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
    DUCKE_DATA_DIR: dir, DUCKE_NODE_NAME: 'clients-node',
    DUCKE_PORT: String(ports.app), DUCKE_ADMIN_PORT: String(ports.admin),
    HAZELCAST_PORT: String(ports.grid), HAZELCAST_INTERFACES: '127.0.0.1',
    HAZELCAST_CLUSTER_NAME: `clients-${randomBytes(6).toString('hex')}`,
    UPSTREAM_URL: upstreamUrl, OPENAI_API_KEY: serverKey,
    DUCKE_SERVICE_TOKEN: SERVICE_TOKEN, DUCKE_OPERATOR_TOKEN: OPERATOR_TOKEN,
    DUCKE_TLS_PORT: String(ports.tls), DUCKE_TLS_BIND_HOST: '127.0.0.1',
    DUCKE_TLS_KEYSTORE_PATH: tls.keystore, DUCKE_TLS_KEYSTORE_PASSWORD: tls.password,
    // stop() waits 30 s for SIGTERM: a session a test left open must not hold the node in its drain
    DUCKE_DRAIN_TIMEOUT: '5s',
    ...env,
  };
  const proc = spawn('java', ['-jar', jar, 'server', 'config.yml'], { cwd: root, env: childEnv, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  // a test run that dies must not leave a node holding its ports
  const reap = () => { if (!exited) proc.kill('SIGKILL'); };
  process.once('exit', reap);
  const guard = {
    ports,
    http: `http://127.0.0.1:${ports.app}`,
    https: `https://127.0.0.1:${ports.tls}`,
    wss: `wss://127.0.0.1:${ports.tls}`,
    logTail: (lines = 40) => readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n'),
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await done;
      clearTimeout(timer);
      process.removeListener('exit', reap);
    },
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exited) throw new Error(`the guard exited (${JSON.stringify(exited)}) before serving:\n${guard.logTail()}`);
    if (Date.now() > deadline) {
      await guard.stop();
      throw new Error(`the guard did not serve /status within ${startTimeoutMs} ms:\n${guard.logTail()}`);
    }
    try {
      const r = await fetch(`${guard.http}/status`);
      if (r.status === 200) return guard;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A JSON call to the guard's API with a bearer token; returns { status, body }. */
export async function api(guard, method, path, token, body) {
  const r = await fetch(`${guard.http}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed, text };
}

/** Mints a client secret (POST /v1/realtime/client_secrets with the service token). */
export async function mintSecret(guard, request) {
  const r = await api(guard, 'POST', '/v1/realtime/client_secrets', SERVICE_TOKEN, request);
  if (r.status !== 201) throw new Error(`minting a client secret answered ${r.status}: ${r.text}`);
  return r.body;
}

/** Polls fn until it returns a truthy value or the deadline passes. */
export async function eventually(fn, { timeoutMs = 15_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
