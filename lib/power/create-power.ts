// From a profile's power section to a Power driver. Secrets are resolved here, when the driver is made (a missing
// environment variable or file is a config error before anything is touched), and go only to the driver.
import { ConfigError } from '../errors.ts';
import type { PowerSpec } from '../profile/schema.ts';
import { resolveSecret } from '../profile/secret.ts';
import { CommandPower } from './command-power.ts';
import { IpmiPower } from './ipmi-power.ts';
import { ManualPower } from './manual-power.ts';
import { PduPower } from './pdu-power.ts';
import type { Power } from './power.ts';
import { RedfishPower } from './redfish-power.ts';
import type { SequenceOptions } from './sequencing.ts';

export interface CreatePowerOptions extends Omit<SequenceOptions, 'minOffMs'> {
  /** The profile's folder: relative secret files and command working directory. */
  profileDir: string;
  /** The box's name (manual power, {box} placeholder). */
  box?: string;
  /** More {name} placeholder values for command power ({box}, {profileDir} are always there). */
  vars?: Record<string, string>;
  /** How a manual power driver asks the operator. */
  prompt?: (message: string) => Promise<void>;
}

export function createPower(spec: PowerSpec, opts: CreatePowerOptions): Power {
  const seq: SequenceOptions = {
    ...(opts.confirmTimeoutMs !== undefined ? { confirmTimeoutMs: opts.confirmTimeoutMs } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...('minOffSeconds' in spec && spec.minOffSeconds !== undefined ? { minOffMs: spec.minOffSeconds * 1000 } : {}),
  };
  switch (spec.type) {
    case 'virtual':
      throw new ConfigError('power.type virtual: a virtual box is powered by the run that starts it (eve-qual run/install), not on its own');
    case 'manual':
      return new ManualPower({ box: opts.box ?? 'the box', ...(opts.prompt ? { prompt: opts.prompt } : {}), ...seq });
    case 'command':
      return new CommandPower({
        on: spec.on,
        off: spec.off,
        ...(spec.status ? { status: spec.status } : {}),
        vars: { profileDir: opts.profileDir, ...(opts.box ? { box: opts.box } : {}), ...opts.vars },
        cwd: opts.profileDir,
        ...seq,
      });
    case 'ipmi': {
      // `cipherSuite` is read once the schema has it (an IPMI cipher suite ID; default: 17, then 3).
      const suite = (spec as { cipherSuite?: number }).cipherSuite;
      return new IpmiPower({
        host: spec.host,
        port: spec.port,
        user: spec.user,
        password: resolveSecret(spec.password, 'power.password', opts.profileDir),
        ...(suite !== undefined ? { cipherSuite: suite } : {}),
        ...seq,
      });
    }
    case 'redfish':
      return new RedfishPower({
        url: spec.url,
        user: spec.user,
        password: resolveSecret(spec.password, 'power.password', opts.profileDir),
        certificateSha256: spec.certificateSha256,
        ...(spec.system ? { system: spec.system } : {}),
        ...seq,
      });
    case 'pdu':
      return new PduPower({ daemon: spec.daemon, hostname: spec.hostname, port: spec.port, ...seq });
  }
}
