// Root hooks (a mocha root-hook plugin, so they also run in every worker of --parallel): whatever a test file
// forgot, no peer process outlives it, and the profile variants it wrote are removed.
// The machine's proxy variables are dropped: the tests' servers are on loopback, and eve-qual sends loopback
// through a proxy like curl does when no_proxy does not say otherwise. The proxy tests set their own.
import { removeProfileVariants } from '../helpers/fixture-release.ts';
import { stopAllPeers } from '../helpers/peer.ts';

for (const name of Object.keys(process.env)) if (/^(https?|all|no)_proxy$/i.test(name)) delete process.env[name];

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopAllPeers();
    removeProfileVariants();
  },
};
