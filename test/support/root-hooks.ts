// Root hooks (a mocha root-hook plugin, so they also run in every worker of --parallel): whatever a test file
// forgot, no peer process outlives it, and the profile variants it wrote are removed.
import { removeProfileVariants } from '../helpers/fixture-release.ts';
import { stopAllPeers } from '../helpers/peer.ts';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopAllPeers();
    removeProfileVariants();
  },
};
