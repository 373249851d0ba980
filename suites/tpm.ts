// tpm: a TPM 2.0 is present (/dev/tpmrm0) and answering (reading a SHA-256 PCR makes the kernel ask the TPM), with
// a SHA-256 bank (EVE's minimum).
import { expect } from 'chai';
import { notDeclaredCheck, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

export const tpmSuite: SuiteModule = {
  capability: 'tpm',
  proves: {},
  register(t, ctx) {
    t.describe('tpm', () => {
      if (!ctx.profile.hardware.tpm) {
        notDeclaredCheck(t, 'TPM', 'the profile declares no TPM');
        return;
      }
      t.check({ check: 'tpm2-present' }, 'tpm: TPM 2.0 present (/dev/tpmrm0)', async () => {
        const r = await read(ctx, 'test -c /dev/tpmrm0 && cat /sys/class/tpm/tpm0/tpm_version_major');
        ctx.fact('tpm_version_major', r.out);
        expect(r.code, 'no /dev/tpmrm0 on the box').to.equal(0);
        expect(r.out, 'the TPM is not a TPM 2.0').to.equal('2');
      });
      t.check({ check: 'sha256-bank' }, 'tpm: answers with a SHA-256 PCR bank', async () => {
        const r = await read(ctx, 'cat /sys/class/tpm/tpm0/pcr-sha256/0 2>/dev/null || tpm2_pcrread sha256:0 2>/dev/null');
        ctx.fact('pcr-sha256-0', r.out);
        expect(r.out, 'no SHA-256 PCR could be read from the TPM').to.match(/[0-9A-Fa-f]{64}/);
      });
    });
  },
};
