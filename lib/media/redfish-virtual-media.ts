// Boot media through the BMC (Redfish virtual media): the prepared installer is served over HTTP from the runner
// (lib/media/http-file-server.ts: the profile's listen address, only that file, only while inserted), the BMC is
// told to insert it (#VirtualMedia.InsertMedia) in a slot that takes it (an .iso in a CD slot, a raw image in a USB
// stick slot), the next boot is overridden once to that device, and eject() takes it out and stops serving.
// Slots are found where the schema puts them: ComputerSystem.VirtualMedia, else the managing Manager's VirtualMedia.
import { ConfigError } from '../errors.ts';
import type { Profile } from '../profile/schema.ts';
import { resolveSecret } from '../profile/secret.ts';
import { RedfishClient } from '../power/redfish-client.ts';
import { allowableValues, findSystem } from '../power/redfish-power.ts';
import { serveFile, type ServedFile } from './http-file-server.ts';
import { checkListen } from './listen-address.ts';

export interface RedfishVirtualMediaOptions {
  client: RedfishClient;
  /** The ComputerSystem (Id or path); default the only one. */
  system?: string;
  /** HOST[:PORT] of the runner, as the BMC reaches it. */
  listen: string;
  /** Where steps are recorded (never given a secret). */
  log?: (line: string) => void;
}

export interface InsertedMedia {
  url: string;
  /** Path of the VirtualMedia slot used. */
  slot: string;
  /** The one-time boot override set: Cd or Usb. */
  bootTarget: 'Cd' | 'Usb';
}

interface Slot {
  path: string;
  types: string[];
  inserted: boolean;
  insert?: string;
  eject?: string;
}

export class RedfishVirtualMedia {
  readonly client: RedfishClient;
  readonly #o: RedfishVirtualMediaOptions;
  #served: ServedFile | undefined;
  #slot: Slot | undefined;

  constructor(opts: RedfishVirtualMediaOptions) {
    this.client = opts.client;
    this.#o = opts;
  }

  get where(): string {
    return this.client.where;
  }

  /** The VirtualMedia slots of the box's system. */
  async slots(): Promise<Slot[]> {
    const sysPath = await findSystem(this.client, this.#o.system);
    const sys = await this.client.resource(sysPath);
    let collection: string | undefined = sys.VirtualMedia?.['@odata.id'];
    if (!collection) {
      const manager: string | undefined = sys.Links?.ManagedBy?.[0]?.['@odata.id'];
      if (manager) collection = (await this.client.resource(manager)).VirtualMedia?.['@odata.id'];
    }
    if (!collection) throw this.client.error(`${sysPath} has no VirtualMedia (neither on the system nor on its manager)`);
    const members: string[] = ((await this.client.resource(collection)).Members ?? []).map((m: any) => m['@odata.id']).filter(Boolean);
    const out: Slot[] = [];
    for (const p of members) {
      const vm = await this.client.resource(p);
      out.push({
        path: p,
        types: vm.MediaTypes ?? [],
        inserted: vm.Inserted === true,
        insert: vm.Actions?.['#VirtualMedia.InsertMedia']?.target,
        eject: vm.Actions?.['#VirtualMedia.EjectMedia']?.target,
      });
    }
    return out;
  }

  /** The slot that takes `image`: a CD for .iso, a USB stick for a raw disk image. */
  async slotFor(image: string): Promise<{ slot: Slot; bootTarget: 'Cd' | 'Usb' }> {
    const iso = /\.iso$/i.test(image);
    const wanted = iso ? ['CD', 'DVD'] : ['USBStick'];
    const slots = await this.slots();
    const slot = slots.find((s) => s.insert && s.types.some((t) => wanted.includes(t)));
    if (!slot)
      throw new ConfigError(
        `${this.where} has no virtual media slot for ${iso ? 'a CD image (.iso)' : 'a raw disk image (USBStick)'}; it offers ${slots.map((s) => `${s.path} [${s.types.join(', ')}]`).join('; ') || 'none'}${iso ? '' : ': use the release\'s installer.iso'}`,
        { where: this.where },
      );
    return { slot, bootTarget: iso ? 'Cd' : 'Usb' };
  }

  /** Serve `image`, insert it, and make the next boot (only) start from it. */
  async insert(image: string): Promise<InsertedMedia> {
    await this.eject();
    const { slot, bootTarget } = await this.slotFor(image);
    if (slot.inserted) {
      this.#o.log?.(`virtual media: ejecting what ${slot.path} held`);
      if (slot.eject) await this.client.action(slot.eject, {}, `#VirtualMedia.EjectMedia on ${slot.path}`);
    }
    const served = await serveFile(image, this.#o.listen);
    this.#served = served;
    try {
      this.#o.log?.(`virtual media: serving ${image} at ${served.url}; inserting into ${slot.path}`);
      await this.client.action(slot.insert!, { Image: served.url, Inserted: true, WriteProtected: true, TransferProtocolType: 'HTTP', TransferMethod: 'Stream' }, `#VirtualMedia.InsertMedia on ${slot.path}`);
      this.#slot = slot;
      const sysPath = await findSystem(this.client, this.#o.system);
      const sys = await this.client.resource(sysPath);
      const allowed: string[] | undefined = sys.Boot?.['BootSourceOverrideTarget@Redfish.AllowableValues'] ?? (await allowableValues(this.client, sys.Boot, 'BootSourceOverrideTarget'));
      if (allowed && !allowed.includes(bootTarget)) throw this.client.error(`${sysPath} cannot boot from ${bootTarget} once (BootSourceOverrideTarget allows ${allowed.join(', ')})`);
      const r = await this.client.request('PATCH', sysPath, { Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: bootTarget } });
      if (r.status >= 300) throw this.client.httpError('PATCH', sysPath, r);
      this.#o.log?.(`virtual media: next boot of ${sysPath} once from ${bootTarget}`);
      return { url: served.url, slot: slot.path, bootTarget };
    } catch (e) {
      await this.eject().catch(() => undefined);
      throw e;
    }
  }

  /** Eject what insert() put in and stop serving it. Idempotent. */
  async eject(): Promise<void> {
    const slot = this.#slot;
    const served = this.#served;
    this.#slot = undefined;
    this.#served = undefined;
    try {
      if (slot?.eject) {
        this.#o.log?.(`virtual media: ejecting ${slot.path}`);
        await this.client.action(slot.eject, {}, `#VirtualMedia.EjectMedia on ${slot.path}`);
      }
    } finally {
      await served?.stop();
    }
  }

  /** For the health check: slots readable, the listen address bindable here. Resolves with a description. */
  async check(): Promise<string> {
    const slots = await this.slots();
    const kinds = [...new Set(slots.filter((s) => s.insert).flatMap((s) => s.types))];
    if (!kinds.length) throw this.client.error('no virtual media slot with an InsertMedia action');
    const where = await checkListen(this.#o.listen);
    return `${slots.length} slot(s) (${kinds.join(', ')}); serving from ${where}`;
  }

  async close(): Promise<void> {
    await this.eject().catch(() => undefined);
    await this.client.close();
  }
}

/**
 * From a profile: media type redfish-virtual-media talks to the BMC named by the Redfish power section (the schema
 * has no BMC fields of its own under media yet).
 */
export function createRedfishVirtualMedia(profile: Profile, opts: { profileDir: string; log?: (line: string) => void }): RedfishVirtualMedia {
  const media = profile.media;
  if (media.type !== 'redfish-virtual-media') throw new ConfigError(`media.type is ${media.type}, not redfish-virtual-media`);
  const power = profile.power;
  if (power.type !== 'redfish')
    throw new ConfigError('media.type redfish-virtual-media uses the BMC of power.type redfish (url, user, password, certificateSha256); this profile powers the box otherwise', { where: 'media' });
  const client = new RedfishClient({
    url: power.url,
    user: power.user,
    password: resolveSecret(power.password, 'power.password', opts.profileDir),
    certificateSha256: power.certificateSha256,
  });
  return new RedfishVirtualMedia({ client, listen: media.listen, ...(power.system ? { system: power.system } : {}), ...(opts.log ? { log: opts.log } : {}) });
}
