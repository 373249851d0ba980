// `eve-qual profile init`: an annotated profile for a new real box. Only what cannot be guessed is asked (vendor,
// model, arch, the box's address); everything else gets a sane default with a comment saying how to find the value.

export interface TemplateAnswers {
  name: string;
  vendor: string;
  model: string;
  arch: 'amd64' | 'arm64';
  sshHost: string;
  /** A local serial device (/dev/ttyUSB0) or a terminal server port (host:port). */
  console: string;
  consoleDevice?: string;
}

export function profileTemplate(a: TemplateAnswers): string {
  const dev = a.consoleDevice ?? (a.arch === 'amd64' ? 'ttyS0' : 'ttyAMA0');
  const ts = /^([^/:]+):(\d+)$/.exec(a.console);
  const link = ts
    ? `{ type: tcp, host: ${ts[1]}, port: ${ts[2]}, protocol: telnet }   # a ser2net/terminal-server port (raw, telnet or rfc2217)`
    : `{ type: serial, path: ${a.console}, baudRate: 115200 }   # use /dev/serial/by-id/... so it survives replugging`;
  return `# eve-qual profile for ${a.vendor} ${a.model} (${a.name}). Validate with: eve-qual profile validate <this file>
box:
  name: ${a.name}
  vendor: ${JSON.stringify(a.vendor)}
  model: ${JSON.stringify(a.model)}
  arch: ${a.arch}
  kind: real
  # sample: SN-0001             # the serial number of this unit (or pass --sample to eve-qual run)

console:
  link: ${link}
  # The kernel's name for the box's port that the cable is on (ttyS0/ttyS1 on x86, ttyAMA0/ttyS2/... on ARM):
  # EVE sends the installer's output to the LAST console= argument, so this must be right or the console stays silent.
  device: ${dev}
  baud: 115200
  # charDelayMs: 2             # pace typed characters for UARTs that drop input at full speed

ssh:
  host: ${a.sshHost}           # the box's address on the lab network (DHCP reservation recommended)
  user: root
  # Pin the host key once known (ssh-keygen -lf on the key, or the fingerprint eve-qual recorded):
  #   hostKey: { fingerprint: "SHA256:..." }
  hostKey: { recordTo: known-hosts/${a.name} }   # records the key at first contact, then pins it

power:
  type: manual                 # eve-qual asks the operator; or command / ipmi / redfish / pdu (see docs/connecting-a-real-box.md)
  minOffSeconds: 5

media:
  type: operator               # eve-qual prints the dd command and waits for the installer's banner on the console

install:
  # disk: sda                  # the disk EVE installs to (eve_install_disk); by default the installer picks the first free disk
  verify: false                # EVE's post-install checks need Internet access
  deadlines: { installerStart: 300, install: 1200, installerIdle: 300, boot: 600, ssh: 300 }

hardware:                      # declare what the box has: each item is checked on the box; undeclared ones are skipped
  ethernet:
    - { name: eth0, cabled: true, dhcp: true }
  usb: []
  # watchdog: { driver: iTCO_wdt, timeoutSeconds: 60 }
  # tpm: { version: '2.0' }
  # cellular: [{ name: modem0, model: EM12-G, apn: internet }]
  # storage: [{ name: disk0, device: sda, sizeGb: 128, minReadMBps: 100 }]
`;
}
