// The console link of a real box, from its profile: the link kinds of lib/link/create-link.ts, plus IPMI Serial over
// LAN through the BMC of an IPMI power section. Virtual boxes have no console outside a run.
import { ConfigError } from '../errors.ts';
import { createLink, type LinkConfig } from '../link/create-link.ts';
import { IpmiSolLink } from '../link/ipmi-sol-link.ts';
import type { Link } from '../link/link.ts';
import type { LoadedProfile } from '../profile/load.ts';
import { resolveSecret, type SecretRef } from '../profile/secret.ts';

/**
 * The shape an `ipmi-sol` console link takes once the schema has it (see docs/connecting-a-real-box.md): every field
 * optional, defaulting to the IPMI power section's BMC.
 */
interface IpmiSolSpec {
  type: 'ipmi-sol';
  host?: string;
  port?: number;
  user?: string;
  password?: SecretRef;
  onBusy?: 'deactivate' | 'fail';
  connectTimeoutMs?: number;
  reconnectDeadlineMs?: number;
}

export function consoleLinkFor(loaded: LoadedProfile): Link {
  const spec = loaded.profile.console.link as { type: string };
  if (spec.type === 'virtual') throw new ConfigError('console.link type virtual: a virtual box has a console only inside the run that starts it (eve-qual run/install)');
  if (spec.type === 'ipmi-sol') {
    const s = spec as IpmiSolSpec;
    const power = loaded.profile.power;
    const bmc = power.type === 'ipmi' ? power : undefined;
    const host = s.host ?? bmc?.host;
    const user = s.user ?? bmc?.user;
    const password = s.password ?? bmc?.password;
    if (!host || !user || !password) throw new ConfigError('console.link type ipmi-sol needs host, user and password, or power.type ipmi to take them from', { where: 'console.link' });
    return new IpmiSolLink({
      host,
      port: s.port ?? bmc?.port ?? 623,
      user,
      password: resolveSecret(password, s.password ? 'console.link.password' : 'power.password', loaded.dir),
      ...(s.onBusy ? { onBusy: s.onBusy } : {}),
      ...(s.connectTimeoutMs ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
      ...(s.reconnectDeadlineMs ? { reconnectDeadlineMs: s.reconnectDeadlineMs } : {}),
    });
  }
  return createLink(spec as LinkConfig, 'console.link');
}
