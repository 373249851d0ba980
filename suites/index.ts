// The capability suites, one module per capability, in the order they run (inventory first).
import type { SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { ethernetSuite } from './ethernet.ts';
import { inventorySuite } from './inventory.ts';
import { storageSuite } from './storage.ts';
import { tpmSuite } from './tpm.ts';
import { usbSuite } from './usb.ts';
import { virtualizationSuite } from './virtualization.ts';
import { watchdogSuite } from './watchdog.ts';
import { cellularSuite } from './cellular.ts';

/** The watchdog resets the box, so it runs last. */
export const ALL_SUITES: SuiteModule[] = [inventorySuite, ethernetSuite, usbSuite, storageSuite, tpmSuite, virtualizationSuite, cellularSuite, watchdogSuite];
