// Which modem ModemManager reports is which declared modem: by its declared identity, never by list position
// (ModemManager numbers modems in the order it probed them, and renumbers them when one comes back). First the
// address as EVE's network config names a modem (usbAddr and/or pciAddr, else interface; mmagent's
// configMatchesModem), then, for a modem declared by model alone, the one modem of that model no other declaration
// claimed by address. Two modems of the model left over cannot be told apart: that is said, never guessed.
import { addressMatches, declaredAddress, type WwanPhysAddrs } from '../lib/media/network-config.ts';
import type { Profile } from '../lib/profile/schema.ts';
import { physAddrsOf, type ModemStatus } from './mmcli.ts';

export type Modem = Profile['hardware']['cellular'][number];

/** A modem ModemManager lists: its D-Bus path, what it reports, and the address EVE's wwan agent reads for it. */
export interface FoundModem {
  path: string;
  status: ModemStatus;
  addrs: WwanPhysAddrs;
}

/** How a declared modem was looked for, and the modem found (or why none). */
export interface ModemMatch {
  by: 'address' | 'interface' | 'model';
  declared: WwanPhysAddrs | { model: string };
  modem: FoundModem | null;
  why?: string;
}

export function foundModem(path: string, status: ModemStatus): FoundModem {
  return { path, status, addrs: physAddrsOf(status) };
}

/** ModemManager's model, alone or after its manufacturer ("EM06-E", "Quectel EM06-E"), as one compares it. */
export function modelMatches(declared: string, s: ModemStatus): boolean {
  const norm = (x: string) => x.trim().replace(/\s+/g, ' ').toLowerCase();
  const names = [s.model, s.manufacturer && s.model ? `${s.manufacturer} ${s.model}` : null].filter((x): x is string => x !== null);
  return names.some((n) => norm(n) === norm(declared));
}

function byAddress(m: Modem, addr: WwanPhysAddrs, found: FoundModem[]): ModemMatch {
  const by = addr.usb || addr.pci ? 'address' : 'interface';
  const hit = found.filter((f) => addressMatches(addr, f.addrs));
  if (hit.length === 1) return { by, declared: addr, modem: hit[0]! };
  const where = JSON.stringify(addr);
  if (hit.length === 0) return { by, declared: addr, modem: null, why: `no modem at ${where} among the ${found.length} ModemManager lists` };
  return { by, declared: addr, modem: null, why: `${hit.length} modems at ${where} (${hit.map((f) => f.path).join(', ')}): cannot tell which is ${m.name}` };
}

function byModel(m: Modem, model: string, unclaimed: FoundModem[]): ModemMatch {
  const declared = { model };
  const hit = unclaimed.filter((f) => modelMatches(model, f.status));
  if (hit.length === 1) return { by: 'model', declared, modem: hit[0]! };
  if (hit.length === 0) return { by: 'model', declared, modem: null, why: `no modem of model ${model} among those no other declared modem is at` };
  return {
    by: 'model',
    declared,
    modem: null,
    why: `${hit.length} modems of model ${model} (${hit.map((f) => f.path).join(', ')}): cannot tell which is ${m.name}; declare its usbAddr, pciAddr or interface`,
  };
}

/** Each declared modem's match (by name), from what ModemManager lists. */
export function matchModems(declared: Modem[], found: FoundModem[]): Map<string, ModemMatch> {
  const out = new Map<string, ModemMatch>();
  for (const m of declared) {
    const addr = declaredAddress(m);
    if (addr) out.set(m.name, byAddress(m, addr, found));
  }
  const claimed = new Set([...out.values()].map((x) => x.modem?.path));
  const unclaimed = found.filter((f) => !claimed.has(f.path));
  for (const m of declared) {
    if (out.has(m.name)) continue;
    // The schema refuses a modem with neither an address nor a model.
    out.set(m.name, byModel(m, m.model ?? '', unclaimed));
  }
  return out;
}
