// Relayed-session load for chaos/rolling-restart.sh: starts the stand-in upstream (its URL goes to
// OUT/standin.url), waits for OUT/nodes (one base URL per line), then keeps WORKERS relayed sessions
// open across the nodes until OUT/stop appears. Each session asks for a response every second and
// closes itself after 3 to 25 s; a handshake refused (503 node_draining, a node that is down) is
// tried on the next node, as a load balancer would. A session closed by the guard with 1012 is
// followed by a new one. Writes OUT/relay-sessions.txt ("id node acked_nano end code" per session)
// and OUT/relay-summary.json. Usage: node clients/programs/rolling-load.mjs OUT WORKERS
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startStandIn } from '../lib/standin.mjs';

const [out, workersArg] = process.argv.slice(2);
const WORKERS = Number(workersArg ?? 6);
const KEY = 'rolling-upstream-key';
const standIn = await startStandIn({ apiKey: KEY });
writeFileSync(`${out}/standin.url`, `${standIn.url}\n`);
while (!existsSync(`${out}/nodes`)) await sleep(200);
const nodes = readFileSync(`${out}/nodes`, 'utf8').split('\n').filter(Boolean);
const stopped = () => existsSync(`${out}/stop`);
const summary = { sessions: 0, finished: 0, closed1012: 0, other: 0, otherCodes: [], refused: {}, ackedNano: 0 };
writeFileSync(`${out}/relay-sessions.txt`, '');
let next = 0;

const nano = (usd) => Math.round(Number(usd) * 1e9);

function once(worker, n) {
  const node = nodes[next++ % nodes.length];
  const url = node.replace('http://', 'ws://') + '/session';
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { 'X-Forwarded-For': `198.51.100.${worker + 10}` } });
    let id = null; let acked = 0; let closing = false; let timer = null;
    const lifetimeMs = 3000 + ((worker * 7 + n * 5) % 23) * 1000;
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let word = `${res.statusCode}`;
        try { word = `${res.statusCode} ${JSON.parse(body).error}`; } catch { /* not JSON */ }
        summary.refused[word] = (summary.refused[word] ?? 0) + 1;
        resolve('refused');
      });
    });
    ws.on('error', () => {
      if (id === null) { summary.refused.unreachable = (summary.refused.unreachable ?? 0) + 1; resolve('refused'); }
    });
    ws.on('message', (data) => {
      const e = JSON.parse(data.toString());
      if (e.type === 'session_started') {
        id = e.session_id;
        const started = Date.now();
        timer = setInterval(() => {
          if (Date.now() - started >= lifetimeMs || stopped()) {
            clearInterval(timer); closing = true; ws.close(1000, 'done');
          } else {
            ws.send(JSON.stringify({ type: 'response.create' }));
          }
        }, 1000);
      } else if (e.type === 'usage_update') {
        acked = nano(e.session_cost);
      }
    });
    ws.on('close', (code) => {
      clearInterval(timer);
      if (id === null) return;
      const end = closing && code === 1000 ? 'finished' : code === 1012 ? 'closed1012' : 'other';
      summary.sessions++; summary[end]++; summary.ackedNano += acked;
      if (end === 'other') summary.otherCodes.push(code);
      appendFileSync(`${out}/relay-sessions.txt`, `${id} ${node} ${acked} ${end} ${code}\n`);
      resolve(end);
    });
  });
}

async function worker(w) {
  for (let n = 0; !stopped(); n++) {
    const r = await once(w, n);
    if (r === 'refused') await sleep(200);
  }
}

/** The guard's relayed sessions still live on every node (a node that does not answer counts none). */
async function liveOnNodes() {
  let live = 0;
  for (const node of nodes) {
    try {
      const text = await (await fetch(`${node}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
      const line = text.split('\n').find((l) => l.startsWith('relay_sessions_live '));
      live += line ? Number(line.split(' ')[1]) : 0;
    } catch { /* down: nothing live there */ }
  }
  return live;
}

await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
writeFileSync(`${out}/relay-summary.json`, JSON.stringify(summary));
// a client hears its close answered before the guard has ended the session behind it: the stand-in
// stays up until every node has (at most 15 s), or the last sessions would end for a vanished upstream
for (const deadline = Date.now() + 15_000; Date.now() < deadline && await liveOnNodes() > 0;) await sleep(100);
await standIn.close();
