// What a client program saw, one JSON line per happening on stdout, for the test that runs it.

function plain(value) {
  return JSON.parse(JSON.stringify(value, (_key, v) => (v instanceof Error ? { name: v.name, message: v.message, code: v.code } : v)));
}

/** Writes one happening: kind is upgrade | open | event | audio | error | close | timeout. */
export function report(kind, data = {}) {
  process.stdout.write(`${JSON.stringify({ kind, ...plain(data) })}\n`);
}

/** Ends the program if its scenario has not finished in time, so a hung client fails its test. */
export function giveUpAfter(ms) {
  setTimeout(() => {
    report('timeout', { ms });
    process.exit(2);
  }, ms).unref();
}

/** Received events in order; until() waits for the next one, past the previous match, that fits. */
export class Inbox {
  #events = [];
  #cursor = 0;
  #waiters = [];

  push(event) {
    this.#events.push(event);
    for (const w of [...this.#waiters]) this.#try(w);
  }

  until(predicate) {
    return new Promise((resolve) => {
      const w = { predicate, resolve };
      if (!this.#try(w)) this.#waiters.push(w);
    });
  }

  #try(w) {
    const i = this.#events.findIndex((e, index) => index >= this.#cursor && w.predicate(e));
    if (i < 0) return false;
    this.#cursor = i + 1;
    this.#waiters = this.#waiters.filter((x) => x !== w);
    w.resolve(this.#events[i]);
    return true;
  }
}

export const SCENARIO = process.env.SCENARIO ?? 'turns';
export const QUESTION = 'What does a duck say?';
/** 100 ms of 24 kHz 16-bit silence, base64, as a microphone would send it. */
export const AUDIO_CHUNK = Buffer.alloc(4800).toString('base64');
