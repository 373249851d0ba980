// Redfish power: the ComputerSystem's PowerState, and #ComputerSystem.Reset (On / ForceOff) followed through its
// task to the end, then confirmed by reading PowerState back (SequencedPower). Which system: the profile's
// `system` (an Id or a path), else the only member of /redfish/v1/Systems.
import { ConfigError } from '../errors.ts';
import type { PowerState } from './power.ts';
import { RedfishClient, type RedfishOptions } from './redfish-client.ts';
import { SequencedPower, type PowerActions, type SequenceOptions } from './sequencing.ts';

export interface RedfishPowerOptions extends RedfishOptions, SequenceOptions {
  /** The ComputerSystem: an Id (`1`, `System.Embedded.1`) or a path; default the only one. */
  system?: string;
}

/** Find the ComputerSystem's path: the one named, or the only member of the Systems collection. */
export async function findSystem(client: RedfishClient, system?: string): Promise<string> {
  if (system) return system.startsWith('/') ? system : `/redfish/v1/Systems/${system}`;
  const root = await client.resource('/redfish/v1/');
  const collection: string = root.Systems?.['@odata.id'] ?? '/redfish/v1/Systems';
  const members: string[] = ((await client.resource(collection)).Members ?? []).map((m: any) => m['@odata.id']).filter(Boolean);
  if (members.length === 1) return members[0]!;
  if (members.length === 0) throw client.error(`${collection} lists no ComputerSystem`);
  throw new ConfigError(`${client.where} manages ${members.length} systems (${members.join(', ')}): set power.system to the box's`, { where: client.where });
}

/** The values a Redfish action parameter allows, from the action itself or its ActionInfo; undefined = not said. */
export async function allowableValues(client: RedfishClient, action: any, parameter: string): Promise<string[] | undefined> {
  const inline = action?.[`${parameter}@Redfish.AllowableValues`];
  if (Array.isArray(inline)) return inline;
  const info = action?.['@Redfish.ActionInfo'];
  if (typeof info !== 'string') return undefined;
  const r = await client.get(info);
  const p = (r.body?.Parameters ?? []).find((x: any) => x?.Name === parameter);
  return Array.isArray(p?.AllowableValues) ? p.AllowableValues : undefined;
}

class RedfishActions implements PowerActions {
  readonly readsState = true;
  readonly where: string;
  #system: string | undefined;

  constructor(
    readonly client: RedfishClient,
    readonly systemOption: string | undefined,
  ) {
    this.where = client.where;
  }

  async system(): Promise<string> {
    return (this.#system ??= await findSystem(this.client, this.systemOption));
  }

  async readState(): Promise<PowerState> {
    const sys = await this.client.resource(await this.system());
    switch (sys.PowerState) {
      case 'On':
      case 'Paused':
        return 'on';
      case 'Off':
        return 'off';
      default:
        // PoweringOn / PoweringOff / absent: not settled, so not either answer.
        return 'unknown';
    }
  }

  async #reset(preferred: string[]): Promise<void> {
    const path = await this.system();
    const sys = await this.client.resource(path);
    const action = sys.Actions?.['#ComputerSystem.Reset'];
    if (!action?.target) throw this.client.error(`${path} has no #ComputerSystem.Reset action`);
    const allowed = await allowableValues(this.client, action, 'ResetType');
    const type = allowed ? preferred.find((t) => allowed.includes(t)) : preferred[0];
    if (!type) throw this.client.error(`${path}: ResetType allows ${allowed!.join(', ')}, none of ${preferred.join(', ')}`);
    await this.client.action(action.target, { ResetType: type }, `#ComputerSystem.Reset ${type} on ${path}`);
  }

  requestOn(): Promise<void> {
    return this.#reset(['On', 'ForceOn']);
  }

  requestOff(): Promise<void> {
    // Pulling the plug, like the other drivers; a graceful shutdown only where the BMC offers nothing else.
    return this.#reset(['ForceOff', 'GracefulShutdown']);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export class RedfishPower extends SequencedPower {
  readonly client: RedfishClient;
  readonly #actions: RedfishActions;

  constructor(opts: RedfishPowerOptions) {
    const client = new RedfishClient(opts);
    const actions = new RedfishActions(client, opts.system);
    super(actions, opts);
    this.client = client;
    this.#actions = actions;
  }

  /** The ComputerSystem's path (looked up once). */
  system(): Promise<string> {
    return this.#actions.system();
  }
}
