// EVE's network config for a box's cellular modems: the DevicePortConfig (DPC) eve-qual writes into CONFIG, and the
// same format read back from the box, the way EVE reads it.
//
// Why: EVE's wwan agent (pkg/wwan/mmagent) deletes the bearers of, and disables the radio on, every modem its network
// config does not list, so registration and a data bearer can only be tested on a listed modem. A box that was never
// onboarded gets that config from CONFIG: `bootstrap-config.pb` (EVE 8.12 on; a BootstrapConfig protobuf whose
// EdgeDevConfig must be signed by the controller's certificate chain: eve-qual cannot make one) or, on every release
// eve-qual drives, the legacy `DevicePortConfig/*.json`, which nim ingests unless `bootstrap-config.pb` is present or
// the box was onboarded (`/persist/checkpoint/lastconfig`). eve-qual writes `DevicePortConfig/override.json`.
//
// A DPC replaces EVE's default ("last resort": DHCP on every Ethernet port), so the one written here lists every
// declared Ethernet port with DHCP too; without a declared Ethernet port none is written (it would take SSH away).
// A modem is named as EVE's dpcreconciler does: by USBAddr and/or PCIAddr, or, with neither, by IfName, matched by
// mmagent's configMatchesModem against the address ModemManager's primary port sits at (USB `<bus>:<port>[.port]`,
// PCI `0000:00:14.0`, the net interface). Its APN goes both in CellularV2 (EVE 10.6 on) and in the deprecated
// Cellular list that older releases read (newer ones use it only when CellularV2 has no activated access point).
import type { Profile } from '../profile/schema.ts';

/** Where in CONFIG the DPC goes (EVE: /config/DevicePortConfig/<key>.json). */
export const DPC_PATH = 'DevicePortConfig/override.json';

type Modem = Profile['hardware']['cellular'][number];

/** A modem's physical address as EVE's WwanPhysAddrs has it (empty fields are not compared). */
export interface WwanPhysAddrs {
  usb: string;
  pci: string;
  interface: string;
}

/** One modem a network config lists (EVE's WwanNetworkConfig, the fields a qualification looks at). */
export interface WwanNetwork {
  logicalLabel: string;
  physAddrs: WwanPhysAddrs;
  apn: string;
}

export interface NetworkConfigPlan {
  /** The DPC JSON to write at DPC_PATH, or null when none is written. */
  json: string | null;
  listed: WwanNetwork[];
  /** Declared modems left out, each with the reason. */
  unlisted: { name: string; reason: string }[];
}

/** The address the profile declares for a modem, or null when it names none EVE could match. */
export function declaredAddress(m: Modem): WwanPhysAddrs | null {
  if (m.usbAddr || m.pciAddr) return { usb: m.usbAddr ?? '', pci: m.pciAddr ?? '', interface: '' };
  if (m.interface) return { usb: '', pci: '', interface: m.interface };
  return null;
}

function unlistedReason(profile: Profile, m: Modem): string | null {
  if (!declaredAddress(m)) return `the profile gives ${m.name} no usbAddr, pciAddr or interface, by which EVE's network config names a modem`;
  if (m.apn === undefined) return `the profile gives ${m.name} no apn, without which EVE's network config cannot list it`;
  if (profile.hardware.ethernet.length === 0) {
    return 'the profile declares no Ethernet port: a network config replaces EVE\'s default (DHCP on every Ethernet port), so one listing only modems would take SSH away';
  }
  return null;
}

/** The DPC that lists the profile's modems with their APNs (TimePriority `now`: a controller's later config wins). */
export function networkConfigFor(profile: Profile, now: Date): NetworkConfigPlan {
  const listed: WwanNetwork[] = [];
  const unlisted: NetworkConfigPlan['unlisted'] = [];
  for (const m of profile.hardware.cellular) {
    const reason = unlistedReason(profile, m);
    if (reason) unlisted.push({ name: m.name, reason });
    else listed.push({ logicalLabel: m.name, physAddrs: declaredAddress(m)!, apn: m.apn! });
  }
  if (listed.length === 0) return { json: null, listed, unlisted };
  const ethernet = profile.hardware.ethernet.map((e) => ({ IfName: e.name, Phylabel: e.name, Logicallabel: e.name, IsMgmt: true, Dhcp: 4, Cost: 0 }));
  const modems = listed.map((n) => ({
    ...(n.physAddrs.interface ? { IfName: n.physAddrs.interface } : {}),
    ...(n.physAddrs.usb ? { USBAddr: n.physAddrs.usb } : {}),
    ...(n.physAddrs.pci ? { PCIAddr: n.physAddrs.pci } : {}),
    Phylabel: n.logicalLabel,
    Logicallabel: n.logicalLabel,
    IsMgmt: true,
    // Ethernet first: the modem only carries management traffic when no Ethernet port reaches the controller.
    Cost: 1,
    Dhcp: 4,
    WirelessCfg: { WType: 1, CellularV2: { AccessPoints: [{ SIMSlot: 0, Activated: true, APN: n.apn }] }, Cellular: [{ APN: n.apn }] },
  }));
  const dpc = { Version: 1, TimePriority: now.toISOString(), Ports: [...ethernet, ...modems] };
  return { json: JSON.stringify(dpc, null, 2) + '\n', listed, unlisted };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** One DPC's TimePriority and the modems it lists, as EVE's getIntendedWwanConfig derives them; null if the text
 * is not a DPC (nim logs and ignores such a file). */
export function parseDpc(text: string): { timePriority: string; networks: WwanNetwork[] } | null {
  let dpc: { Ports?: unknown; TimePriority?: unknown } | null;
  try {
    dpc = JSON.parse(text) as typeof dpc;
  } catch {
    return null;
  }
  const ports = dpc?.Ports;
  if (!Array.isArray(ports)) return null;
  const out: WwanNetwork[] = [];
  for (const p of ports as Record<string, unknown>[]) {
    const w = (p?.WirelessCfg ?? {}) as { WType?: unknown; CellularV2?: { AccessPoints?: unknown }; Cellular?: unknown };
    if (p?.InvalidConfig === true || w.WType !== 1) continue;
    const aps = Array.isArray(w.CellularV2?.AccessPoints) ? (w.CellularV2.AccessPoints as Record<string, unknown>[]) : [];
    const old = Array.isArray(w.Cellular) ? (w.Cellular as Record<string, unknown>[]) : [];
    const ap = aps.find((a) => a?.Activated === true) ?? old[0];
    if (!ap) continue;
    const usb = str(p.USBAddr);
    const pci = str(p.PCIAddr);
    const physAddrs = usb || pci ? { usb, pci, interface: '' } : { usb: '', pci: '', interface: str(p.IfName) };
    out.push({ logicalLabel: str(p.Logicallabel) || str(p.IfName), physAddrs, apn: str(ap.APN) });
  }
  return { timePriority: str(dpc!.TimePriority), networks: out };
}

/** EVE's configMatchesModem: every address the config gives must equal the modem's. */
export function addressMatches(config: WwanPhysAddrs, modem: WwanPhysAddrs): boolean {
  if (!modem.usb && !modem.pci && !modem.interface) return false;
  return (!config.interface || config.interface === modem.interface) && (!config.usb || config.usb === modem.usb) && (!config.pci || config.pci === modem.pci);
}

/** The network config EVE is using, read from the box's CONFIG: known (with its source), or why it cannot be known. */
export type ConfigInEffect = { known: true; source: string; networks: WwanNetwork[] } | { known: false; why: string };

export function configInEffect(box: { dpcFiles: { name: string; text: string }[]; bootstrapConfig: boolean; onboarded: boolean }): ConfigInEffect {
  if (box.onboarded) return { known: false, why: 'the box was onboarded (/persist/checkpoint/lastconfig): EVE uses its controller\'s network config, not CONFIG\'s' };
  if (box.bootstrapConfig) return { known: false, why: 'CONFIG holds bootstrap-config.pb, so EVE ignores DevicePortConfig/*.json and uses that signed config, which eve-qual cannot read' };
  // nim ingests every DevicePortConfig/*.json it can parse; the newest TimePriority is the one it tries first.
  const parsed = box.dpcFiles
    .map((f) => ({ name: f.name, dpc: parseDpc(f.text) }))
    .filter((f): f is { name: string; dpc: NonNullable<ReturnType<typeof parseDpc>> } => f.dpc !== null)
    .sort((a, b) => (a.dpc.timePriority < b.dpc.timePriority ? 1 : a.dpc.timePriority > b.dpc.timePriority ? -1 : 0));
  const newest = parsed[0];
  if (!newest) return { known: true, source: 'none (no DevicePortConfig in CONFIG: EVE\'s default lists no modem)', networks: [] };
  return { known: true, source: `/config/DevicePortConfig/${newest.name}`, networks: newest.dpc.networks };
}
