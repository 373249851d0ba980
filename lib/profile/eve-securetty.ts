// The ttys EVE lets root log in on: its /etc/securetty (images/rootfs.yml.in in lf-edge/eve, the same list in
// images/installer.yml.in). EVE's getty service starts `agetty -a root` on every console= tty, but on one not listed
// here root cannot log in (pkg/dom0-ztools rungetty.sh: "will not be able to log in as root on this tty"), so the
// harness gets no console shell there. The fixture release carries the same list (tools/fixtures/rootfs/etc/securetty).
export const EVE_SECURETTY: readonly string[] = [
  'console',
  'tty0',
  'tty1',
  'tty2',
  'tty3',
  'tty4',
  'tty5',
  'tty6',
  'tty7',
  'tty8',
  'tty9',
  'tty10',
  'tty11',
  'hvc0',
  'ttyS0',
  'ttyS1',
  'ttyS2',
  'ttyAMA0',
  'ttyAMA1',
  'ttyTCU0',
  'ttyTHS0',
  'ttyTHS1',
  'ttymxc0',
  'ttymxc2',
];
