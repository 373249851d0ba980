// EVE runs its root autologin getty (agetty -a root) only on console= ttys listed in its /etc/securetty
// (images/rootfs.yml.in; pkg/dom0-ztools rungetty.sh warns "will not be able to log in as root" otherwise), so a
// profile whose console.device is not on that list validates with a warning that names the list.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { eveQual, profileVariant, repoRoot } from '../helpers/fixture-release.ts';

const FIXTURE_SECURETTY = path.join(repoRoot, 'tools', 'fixtures', 'rootfs', 'etc', 'securetty');

function lineOf(file: string, needle: string): number {
  return fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
}

describe("EVE's /etc/securetty: root logs in only on the ttys it lists (profile validate)", () => {
  for (const tty of ['ttyUSB0', 'ttyS3']) {
    it(`console.device ${tty} (not on EVE's list): valid (exit 0) with a warning at the field naming EVE's list`, async () => {
      const file = profileVariant('qemu-amd64.yaml', `securetty-${tty}`, [['device: ttyS0 ', `device: ${tty} `]]);
      const r = await eveQual(['profile', 'validate', file]);
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout).to.contain(`${file}: ok`);
      const warning = r.stderr.split('\n').find((l) => l.includes('console.device'));
      expect(warning, r.all).to.not.equal(undefined);
      expect(warning).to.contain(`${file}:${lineOf(file, `device: ${tty}`)}:11: console.device: warning:`);
      expect(warning).to.contain(tty);
      expect(warning).to.contain('/etc/securetty');
      expect(warning).to.contain('console, tty0, tty1');
      expect(warning).to.contain('ttyS0, ttyS1, ttyS2, ttyAMA0, ttyAMA1, ttyTCU0, ttyTHS0, ttyTHS1, ttymxc0, ttymxc2');
    });
  }

  it("console.device on EVE's list (ttyS0, ttyS1, ttyAMA0): no warning", async () => {
    const r = await eveQual(['profile', 'validate', 'hardware-profiles/qemu-amd64.yaml', 'hardware-profiles/qemu-arm64.yaml', 'hardware-profiles/examples/x86-netboot-ipmi.yaml']);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.not.contain('warning');
  });

  it("the fixture release's /etc/securetty is EVE's list, entry for entry", async () => {
    const file = profileVariant('qemu-amd64.yaml', 'securetty-list', [['device: ttyS0 ', 'device: ttyUSB0 ']]);
    const r = await eveQual(['profile', 'validate', file]);
    const listed = /EVE's \/etc\/securetty lists only ([^)]+?)\)/.exec(r.stderr)?.[1];
    expect(listed, r.all).to.be.a('string');
    expect(listed!.split(', ')).to.deep.equal(fs.readFileSync(FIXTURE_SECURETTY, 'utf8').trim().split('\n'));
  });
});
