// A TCP port forward that behaves as QEMU's user-net hostfwd in front of a box's sshd across a reboot, for the
// reconnect tests. What hostfwd does, and a direct connection to sshd does not:
// - the host side ACCEPTS every connection, guest listening or not, and closes it when the guest refuses: a booting
//   box is never ECONNREFUSED, only "connected, then closed";
// - a guest that resets sends nothing on the connections it had, not even a FIN: they stay open and silent (slirp
//   takes the client's bytes and waits for the guest to acknowledge them) until the client gives up on them;
// - while EVE's debug container starts, its sshd may be up long enough to send its banner and then go (restarted
//   once while its keys are set up), or accept a login and then be killed with its sessions.
import net from 'node:net';

/** What the forward does with one new connection while the box boots. */
export type BootStep =
  /** Accept, then close at once: nothing listens in the guest yet. */
  | 'close'
  /** Pass sshd's banner line through, then close both sides: sshd went away mid-handshake. */
  | 'banner';

export interface FlakyForward {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far, of every kind. */
  readonly accepted: number;
  /**
   * The box resets: every established connection goes silent for good (bytes from the client are taken and
   * dropped, nothing comes back, no FIN), and every new one is accepted and closed, until boot().
   */
  reset(): void;
  /** The box boots: the next connections go through `steps` in order (see BootStep), every one after is forwarded. */
  boot(steps?: BootStep[]): void;
  /** Close every forwarded connection now, from the box's side (sshd killed with its sessions). */
  cutAll(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startFlakyForward(target: { host: string; port: number }): Promise<FlakyForward> {
  const live = new Set<Pair>();
  const held = new Set<net.Socket>();
  const strays = new Set<net.Socket>();
  let down = false;
  let steps: BootStep[] = [];
  let accepted = 0;

  const closeAtOnce = (client: net.Socket) => client.destroy();

  const bannerThenClose = (client: net.Socket) => {
    const upstream = net.connect(target);
    strays.add(upstream);
    let got = Buffer.alloc(0);
    const done = () => {
      strays.delete(upstream);
      upstream.destroy();
      client.destroy();
    };
    upstream.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const eol = got.indexOf('\n');
      if (eol < 0) return;
      client.write(got.subarray(0, eol + 1), done);
    });
    upstream.on('error', done);
    upstream.on('close', done);
  };

  const forward = (client: net.Socket) => {
    const upstream = net.connect(target);
    const pair = { client, upstream };
    live.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      if (!live.delete(pair)) return; // held silent, or already ended
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end).on('close', end);
    client.on('close', end);
  };

  /** The guest is gone: its side of the connection vanishes, the client's side stays open and gets no answer. */
  const hold = ({ client, upstream }: Pair) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    upstream.destroy();
    held.add(client);
    client.on('data', () => {});
    client.resume(); // unpipe() paused it
    client.on('close', () => held.delete(client));
  };

  const cutAll = () => {
    const pairs = [...live];
    live.clear();
    for (const { client, upstream } of pairs) {
      upstream.destroy();
      client.destroy();
    }
  };

  const server = net.createServer((client) => {
    accepted++;
    client.on('error', () => {}); // a client resetting its side is its business
    client.setNoDelay(true);
    if (down) return closeAtOnce(client);
    const step = steps.shift();
    if (step === 'close') return closeAtOnce(client);
    if (step === 'banner') return bannerThenClose(client);
    forward(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    get accepted() {
      return accepted;
    },
    reset() {
      down = true;
      steps = [];
      const pairs = [...live];
      live.clear();
      for (const p of pairs) hold(p);
    },
    boot(next: BootStep[] = []) {
      down = false;
      steps = [...next];
    },
    cutAll,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      cutAll();
      for (const s of [...held, ...strays]) s.destroy();
      await closed;
    },
  };
}
