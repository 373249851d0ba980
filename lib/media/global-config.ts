// EVE's /config/GlobalConfig/global.json: when a release's CONFIG carries one, it is authoritative for SSH. zedagent
// then takes the keys from its `debug.enable.ssh` item and ignores /config/authorized_keys (lf-edge/eve
// pkg/pillar/cmd/zedagent/handleconfig.go, loadGlobalConfigImpl), so the run's key must go into that item too. A file
// EVE cannot parse makes it load nothing at all, not even authorized_keys: no SSH.
import { ConfigError } from '../errors.ts';

export const GLOBAL_CONFIG_PATH = 'GlobalConfig/global.json';
const SSH_KEYS = 'debug.enable.ssh';
/** pkg/pillar/types/global.go: ConfigItemTypeInvalid, Int, Bool, String, TriState. */
const ITEM_TYPE_STRING = 3;

type Item = { Key?: string; ItemType?: number; StrValue?: string } & Record<string, unknown>;

/** `text` (the file's content) with `publicKey` among the keys of debug.enable.ssh, once. */
export function withSshKey(text: string, publicKey: string, where: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: not JSON (${(err as Error).message}): EVE would load no configuration from it, and no SSH key`, { where });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${where}: not a JSON object (EVE's ConfigItemValueMap)`, { where });
  const map = doc as { GlobalSettings?: Record<string, Item> };
  const settings = (map.GlobalSettings ??= {});
  if (typeof settings !== 'object' || Array.isArray(settings)) throw new ConfigError(`${where}: GlobalSettings is not an object`, { where });
  const item = settings[SSH_KEYS];
  const keys = (item?.ItemType === ITEM_TYPE_STRING && typeof item.StrValue === 'string' ? item.StrValue : '').split('\n').filter((k) => k.trim() !== '');
  const key = publicKey.trim();
  if (!keys.includes(key)) keys.push(key);
  settings[SSH_KEYS] = { ...item, Key: SSH_KEYS, ItemType: ITEM_TYPE_STRING, StrValue: keys.join('\n') };
  return JSON.stringify(doc, null, 2) + '\n';
}
