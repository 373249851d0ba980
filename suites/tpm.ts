// tpm: a TPM 2.0 (/dev/tpmrm0, tpm_version_major 2) answering with a SHA-256 PCR bank (reading a PCR in sysfs makes
// the kernel ask the TPM; EVE's minimum), and EVE's own proof that the TPM works for it: EVE keeps its device key in
// the TPM only when making it there worked, which leaves /config/device.cert.pem and no /config/device.key.pem
// (pkg/installer/install, device-steps.sh, evetpm.IsTpmEnabled); a key file there is EVE's soft-key fallback.
import { expect } from 'chai';
import { LabError } from '../lib/errors.ts';
import { notDeclaredCheck, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

const CERT = '/config/device.cert.pem';
const KEY = '/config/device.key.pem';

async function tpm2Present(ctx: SuiteContext): Promise<void> {
  const dev = (await read(ctx, 'test -e /dev/tpmrm0 && echo present')).out === 'present';
  const major = await read(ctx, 'cat /sys/class/tpm/tpm0/tpm_version_major');
  ctx.fact('/dev/tpmrm0', dev ? 'present' : 'absent');
  ctx.fact('tpm_version_major', major.code === 0 ? major.out : 'unreadable');
  ctx.fact('declared', ctx.profile.hardware.tpm!.version);
  expect(dev, 'no /dev/tpmrm0 on the box (TPM absent, off in the firmware, or no driver)').to.equal(true);
  expect(major.out, 'the TPM is not a TPM 2.0 (tpm_version_major)').to.equal('2');
}

async function sha256Bank(ctx: SuiteContext): Promise<void> {
  const banks = (await read(ctx, 'ls -d /sys/class/tpm/tpm0/pcr-* 2>/dev/null')).out.split('\n').filter(Boolean).map((p) => p.split('/pcr-').pop()!);
  ctx.fact('banks', banks);
  const r = await read(ctx, 'cat /sys/class/tpm/tpm0/pcr-sha256/0 2>/dev/null || tpm2_pcrread sha256:0 2>/dev/null');
  ctx.fact('pcr-sha256-0', r.out);
  expect(r.out, 'no SHA-256 PCR could be read from the TPM').to.match(/[0-9A-Fa-f]{64}/);
}

/**
 * The files say what EVE decided when it made its identity; a TPM taken out or broken since leaves them as they were.
 * So the TPM must also answer now (a SHA-256 PCR read makes the kernel ask it): a certificate with no TPM answering
 * cannot be a key held in it. (Reading EVE's key at its persistent handle needs tpm2-tools, which EVE's debug
 * container may lack: not done here.)
 */
async function eveDeviceKey(ctx: SuiteContext): Promise<void> {
  const answers = await read(ctx, 'cat /sys/class/tpm/tpm0/pcr-sha256/0 2>/dev/null');
  ctx.fact('tpm answers now', /^[0-9A-Fa-f]{64}$/.test(answers.out) ? `yes (PCR 0 ${answers.out.slice(0, 16)}...)` : 'no (no SHA-256 PCR readable)');
  const cert = await read(ctx, `head -1 ${CERT} 2>/dev/null`);
  const key = (await read(ctx, `test -e ${KEY} && echo present`)).out === 'present';
  const log = await read(ctx, "grep -h -i 'device certificate' /persist/installer/installer.log 2>/dev/null | tail -3");
  const certs = await read(ctx, 'ls /persist/certs 2>/dev/null');
  const pem = cert.out === '-----BEGIN CERTIFICATE-----';
  ctx.fact(CERT, cert.code !== 0 || !cert.out ? 'absent' : pem ? 'present (PEM certificate)' : `present, not a PEM certificate: ${cert.out.slice(0, 80)}`);
  ctx.fact(KEY, key ? 'present' : 'absent');
  if (log.out) ctx.fact('installer', log.out.split('\n').map((l) => l.replace(/^.* : /, '')));
  if (certs.out) ctx.fact('/persist/certs', certs.out.split('\n'));
  if (!cert.out && !key) throw new LabError(`on ${ctx.box.name}: EVE has made no device identity yet (no ${CERT}): it makes one at install or, once the clock is set by NTP, at first boot; nothing tells whether it will use the TPM`);
  expect(key, `${KEY} is there: EVE did not use the TPM for its device key (its soft-key fallback, after the TPM failed or was not there)`).to.equal(false);
  expect(pem, `${CERT} is not a PEM certificate`).to.equal(true);
  expect(answers.out, `no TPM answers now: EVE's device certificate (${CERT}) names a key in a TPM that is gone or broken`).to.match(/^[0-9A-Fa-f]{64}$/);
}

export const tpmSuite: SuiteModule = {
  capability: 'tpm',
  proves: { version: 'tpm2-present' },
  register(t, ctx) {
    t.describe('tpm', () => {
      if (!ctx.profile.hardware.tpm) {
        notDeclaredCheck(t, 'TPM', 'the profile declares no TPM');
        return;
      }
      t.check({ check: 'tpm2-present' }, 'tpm: TPM 2.0 present (/dev/tpmrm0)', () => tpm2Present(ctx));
      t.check({ check: 'sha256-bank' }, 'tpm: answers with a SHA-256 PCR bank', () => sha256Bank(ctx));
      t.check({ check: 'eve-device-key' }, "tpm: EVE keeps its device key in the TPM (device certificate, no key file in CONFIG)", () => eveDeviceKey(ctx));
    });
  },
};
