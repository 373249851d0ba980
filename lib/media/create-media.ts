// From a profile's media section to the BootMedia of a real box. Virtual boxes attach their installer themselves
// (a QEMU drive), so `virtual` here is a config error naming the field.
import type { OperatorPrompt } from '../util/operator-prompt.ts';
import { ConfigError } from '../errors.ts';
import type { LoadedProfile } from '../profile/load.ts';
import type { BootMedia, InstallerMedia } from './boot-media.ts';
import { IpxeHttpMedia } from './ipxe-http-media.ts';
import { OperatorMedia } from './operator-media.ts';
import { createRedfishVirtualMedia, type RedfishVirtualMedia } from './redfish-virtual-media.ts';
import { UsbSdMuxMedia } from './usb-sd-mux-media.ts';

export interface CreateMediaOptions {
  say: (line: string) => void;
  prompt?: OperatorPrompt;
}

/** The BMC's virtual media behind the BootMedia seam: insert serves the image and sets a one-time boot override. */
class RedfishBootMedia implements BootMedia {
  readonly method = 'redfish-virtual-media';
  constructor(readonly media: RedfishVirtualMedia) {}
  async attach(m: InstallerMedia): Promise<void> {
    await this.media.insert(m.image);
  }
  detach(): Promise<void> {
    return this.media.eject();
  }
  close(): Promise<void> {
    return this.media.close();
  }
}

export function createBootMedia(loaded: LoadedProfile, o: CreateMediaOptions): BootMedia {
  const p = loaded.profile;
  const m = p.media;
  switch (m.type) {
    case 'virtual':
      throw new ConfigError(`media.type virtual is for virtual boxes; ${p.box.name} is a real box (operator, usb-sd-mux, ipxe-http or redfish-virtual-media)`, { where: 'media.type' });
    case 'operator':
      return new OperatorMedia({ box: p.box.name, ...(m.port ? { port: m.port } : {}), deadlineSeconds: p.install.deadlines.installerStart, say: o.say, ...(o.prompt ? { prompt: o.prompt } : {}) });
    case 'usb-sd-mux':
      return new UsbSdMuxMedia({ write: m.write, toBox: m.toBox, toHost: m.toHost, box: p.box.name, profileDir: loaded.dir, say: o.say });
    case 'redfish-virtual-media':
      return new RedfishBootMedia(createRedfishVirtualMedia(p, { profileDir: loaded.dir, log: o.say }));
    case 'ipxe-http':
      return new IpxeHttpMedia({ listen: m.listen, box: p.box.name, say: o.say });
  }
}
