// Redfish virtual media against the stand-in Redfish BMC (no Redfish BMC emulator exists here; the stand-in follows
// the DMTF VirtualMedia schema and really fetches the image in byte ranges, as BMCs do): the installer is served
// from the runner only while inserted and only that file, reaches the BMC intact, the next boot is overridden once,
// and eject takes it out and stops serving.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, LabError } from '../../lib/errors.ts';
import { parseListen } from '../../lib/media/listen-address.ts';
import { RedfishVirtualMedia } from '../../lib/media/redfish-virtual-media.ts';
import { RedfishClient } from '../../lib/power/redfish-client.ts';
import { startRedfishStandin, type RedfishStandin } from '../helpers/redfish-standin.ts';

const PASSWORD = 'Vmedia-s3cret-31337';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      })
      .on('error', reject);
  });
}

describe('Redfish virtual media against a stand-in Redfish BMC (DMTF VirtualMedia schema)', function () {
  this.timeout(30_000);
  let dir: string;
  let bmc: RedfishStandin;
  let iso: string;
  let raw: string;
  let vm: RedfishVirtualMedia | undefined;
  const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-vmedia-'));
    iso = path.join(dir, 'installer.iso');
    raw = path.join(dir, 'installer.raw');
    fs.writeFileSync(iso, randomBytes(3 * 1024 * 1024 + 123));
    fs.writeFileSync(raw, randomBytes(1024 * 1024 + 7));
    bmc = await startRedfishStandin({ dir, password: PASSWORD });
  });
  afterEach(async () => {
    await vm?.close();
    vm = undefined;
  });
  after(async () => {
    await bmc?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const media = (listen = '127.0.0.1') => {
    vm = new RedfishVirtualMedia({ client: new RedfishClient({ url: bmc.url, user: 'root', password: PASSWORD, certificateSha256: bmc.fingerprint }), listen });
    return vm;
  };

  it('inserts an .iso in the CD slot: the BMC reads it intact in ranges, the next boot is once from Cd', async () => {
    const v = media();
    const r = await v.insert(iso);
    expect(r.slot).to.equal('/redfish/v1/Managers/1/VirtualMedia/CD1');
    expect(r.bootTarget).to.equal('Cd');
    expect(r.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{24}\/installer\.iso$/);
    expect(bmc.media.CD1!.Inserted).to.equal(true);
    expect(bmc.media.CD1!.fetched!.sha256).to.equal(sha(iso));
    expect(bmc.media.CD1!.fetched!.rangeRequests).to.equal(4);
    expect(bmc.system.Boot).to.include({ BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Cd' });

    // Only that file is served: another path, even beside it, is 404.
    const base = r.url.slice(0, r.url.lastIndexOf('/'));
    expect((await get(`${base}/installer.raw`)).status).to.equal(404);
    expect((await get(new URL('/', r.url).href)).status).to.equal(404);
    expect((await get(r.url.replace(/\/[0-9a-f]{24}\//, '/000000000000000000000000/'))).status).to.equal(404);

    await v.eject();
    expect(bmc.media.CD1!.Inserted).to.equal(false);
    // Served only while inserted.
    const after = await get(r.url).catch((e) => e);
    expect(after).to.be.instanceOf(Error);
    expect((after as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
  });

  it('puts a raw disk image in the USB stick slot and boots once from Usb', async () => {
    const r = await media().insert(raw);
    expect(r.slot).to.equal('/redfish/v1/Managers/1/VirtualMedia/USB1');
    expect(bmc.media.USB1!.fetched!.sha256).to.equal(sha(raw));
    expect(bmc.system.Boot.BootSourceOverrideTarget).to.equal('Usb');
  });

  it('a slot left holding an image is ejected first; check() reports the slots and the listen address', async () => {
    bmc.media.CD1!.Inserted = true;
    bmc.media.CD1!.Image = 'http://elsewhere/old.iso';
    const v = media();
    expect(await v.check()).to.match(/^2 slot\(s\) \(CD, DVD, USBStick\); serving from 127\.0\.0\.1:\d+$/);
    await v.insert(iso);
    expect(bmc.media.CD1!.Image).to.not.equal('http://elsewhere/old.iso');
  });

  it('a BMC that cannot reach the runner: a lab error with its message, and the file is no longer served', async () => {
    const blocked = await startRedfishStandin({ dir: fs.mkdtempSync(path.join(dir, 'b-')), password: PASSWORD, unreachableImageHosts: ['127.0.0.2'] });
    try {
      vm = new RedfishVirtualMedia({
        client: new RedfishClient({ url: blocked.url, user: 'root', password: PASSWORD, certificateSha256: blocked.fingerprint }),
        listen: '127.0.0.2',
      });
      const err = await vm.insert(iso).catch((e) => e);
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.contain(`redfish:127.0.0.1:${blocked.port}`).and.contain('InsertMedia').and.contain('HTTP 400').and.contain('Cannot read the image at http://127.0.0.2:');
      const url = /Cannot read the image at (\S+):/.exec(err.message)![1]!;
      expect(((await get(url).catch((e) => e)) as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
      expect(blocked.media.CD1!.Inserted).to.equal(false);
    } finally {
      await vm?.close();
      vm = undefined;
      await blocked.stop();
    }
  });

  it('refuses a listen address the BMC cannot be told (0.0.0.0) and bad HOST:PORT, as config errors', () => {
    expect(() => parseListen('0.0.0.0:8080')).to.throw(ConfigError, /runner's address/);
    expect(() => parseListen('host:99999')).to.throw(ConfigError);
    expect(parseListen('[fd00::5]:8080')).to.deep.equal({ host: 'fd00::5', port: 8080 });
    expect(parseListen('10.0.0.5')).to.deep.equal({ host: '10.0.0.5', port: 0 });
  });
});
