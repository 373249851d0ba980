// Root hooks: whatever a test file forgot, no peer process outlives the test run.
import { removeProfileVariants } from './helpers/fixture-release.ts';
import { stopAllPeers } from './helpers/peer.ts';

after(async () => {
  await stopAllPeers();
  removeProfileVariants();
});
