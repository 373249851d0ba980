// Debian's Chromium, headless, driven over the DevTools protocol on a pipe (--remote-debugging-pipe: requests on
// fd 3, answers and events on fd 4, NUL-separated JSON), so a test can load a page, read what it renders
// (innerText, layout boxes, computed colours), list every request it made, and take a screenshot. Every wait has
// a deadline that names what it waited for.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export function chromiumBinary(): string | null {
  for (const p of ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (fs.existsSync(p)) return p;
  return null;
}

type Message = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

export class Chromium {
  private readonly proc: ChildProcess;
  private readonly userDataDir: string;
  private readonly input: Writable;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; what: string }>();
  private readonly listeners = new Set<(m: Message) => void>();
  private stderr = '';
  private exited: string | null = null;
  sessionId = '';
  /** Every request the page made (Network.requestWillBeSent). */
  readonly requests: string[] = [];

  private constructor(bin: string) {
    this.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-chromium-'));
    this.proc = spawn(
      bin,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        '--disable-dev-shm-usage',
        '--hide-scrollbars',
        '--mute-audio',
        `--user-data-dir=${this.userDataDir}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    this.input = this.proc.stdio[3] as Writable;
    const output = this.proc.stdio[4] as Readable;
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    let buf = '';
    output.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\0')) >= 0) {
        const m = JSON.parse(buf.slice(0, i)) as Message;
        buf = buf.slice(i + 1);
        this.dispatch(m);
      }
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = `chromium exited (${signal ?? code})`;
      for (const p of this.pending.values()) p.reject(new Error(`${this.exited} while waiting for ${p.what}\n${this.stderr}`));
      this.pending.clear();
    });
  }

  private dispatch(m: Message): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(`${p.what}: ${m.error.message}`));
      else p.resolve(m.result ?? {});
      return;
    }
    if (m.method === 'Network.requestWillBeSent') this.requests.push(String((m.params?.request as { url?: string } | undefined)?.url));
    for (const l of this.listeners) l(m);
  }

  static async launch(): Promise<Chromium> {
    const bin = chromiumBinary();
    if (!bin) throw new Error('Chromium is missing: apt-get install -y chromium');
    const c = new Chromium(bin);
    try {
      const { targetId } = (await c.send('Target.createTarget', { url: 'about:blank' }, { browser: true })) as { targetId: string };
      const { sessionId } = (await c.send('Target.attachToTarget', { targetId, flatten: true }, { browser: true })) as { sessionId: string };
      c.sessionId = sessionId;
      await c.send('Page.enable');
      await c.send('Network.enable');
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  send(method: string, params: Record<string, unknown> = {}, o: { browser?: boolean; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`${this.exited}; cannot send ${method}`));
    const id = this.nextId++;
    const what = `Chromium's answer to ${method}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`timed out after ${o.timeoutMs ?? 20_000} ms waiting for ${what}\n${this.stderr}`));
      }, o.timeoutMs ?? 20_000);
      this.pending.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
        what,
      });
      this.input.write(`${JSON.stringify({ id, method, params, ...(o.browser ? {} : { sessionId: this.sessionId }) })}\0`);
    });
  }

  /** Resolve on the first event `method` of the page's session. */
  waitForEvent(method: string, timeoutMs = 20_000): { promise: Promise<Message> } {
    let done: (m: Message) => void;
    const promise = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${method} from Chromium`));
      }, timeoutMs);
      done = (m) => {
        if (m.method !== method || m.sessionId !== this.sessionId) return;
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve(m);
      };
      this.listeners.add(done);
    });
    return { promise };
  }

  async load(url: string, width = 1280, height = 900): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    const loaded = this.waitForEvent('Page.loadEventFired');
    const r = await this.send('Page.navigate', { url });
    if (r.errorText) throw new Error(`Chromium could not load ${url}: ${String(r.errorText)}`);
    await loaded.promise;
  }

  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** A PNG of the page from the top, `height` CSS pixels tall (or the whole page when shorter). */
  async screenshot(file: string, height = 2400): Promise<Buffer> {
    const size = await this.evaluate<{ w: number; h: number }>('({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})');
    const r = (await this.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: size.w, height: Math.min(size.h, height), scale: 1 } },
      { timeoutMs: 30_000 },
    )) as { data: string };
    const png = Buffer.from(r.data, 'base64');
    fs.writeFileSync(file, png);
    return png;
  }

  /** A PNG of the element matching `selector` (with a margin), e.g. one run's failing test. */
  async screenshotOf(selector: string, file: string, maxHeight = 1600): Promise<Buffer> {
    const box = await this.evaluate<{ x: number; y: number; w: number; h: number } | null>(
      `(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null; const r = e.getBoundingClientRect();
        return { x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height }; })()`,
    );
    if (!box) throw new Error(`no element ${selector} in the page`);
    const r = (await this.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip: { x: Math.max(0, box.x - 8), y: Math.max(0, box.y - 8), width: box.w + 16, height: Math.min(box.h + 16, maxHeight), scale: 1 } },
      { timeoutMs: 30_000 },
    )) as { data: string };
    const png = Buffer.from(r.data, 'base64');
    fs.writeFileSync(file, png);
    return png;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      await this.send('Browser.close', {}, { browser: true, timeoutMs: 5000 }).catch(() => this.proc.kill('SIGKILL'));
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    fs.rmSync(this.userDataDir, { recursive: true, force: true });
  }
}
