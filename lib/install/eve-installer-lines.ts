// What EVE's installer prints (pkg/installer/install in lf-edge/eve; ../shared/EVE-FACTS.md). Progress lines carry
// a `YYYY-MM-DD HH:MM:SS : ` prefix; the NOTICE lines do not (stable since EVE 3.0).
export const INSTALLER_STARTED = /EVE-OS installation started/;
// The whole line must have arrived: a chunk boundary inside the device name would otherwise match a prefix of it.
export const INSTALLING_ON = /Installing EVE-OS on device (\S+)[ \t]*\r?\n/;
export const INSTALL_COMPLETED = /EVE-OS installation completed, device will now (reboot|poweroff)/;
export const NOTICE_REBOOT = /NOTICE: Device will now reboot\./;
export const NOTICE_POWEROFF = /NOTICE: Device will now power off\. Remove the USB stick and power it back on to complete the installation\./;
export const PAUSE = /Pausing before (\S+)\. Entering shell\./;

/**
 * Lines that end an install at once: the installer failed (it still powers off about 10 s later). Each waits for
 * its line end, so the error carries the whole line however the console chunked it.
 */
export const INSTALL_FAILURES: RegExp[] = [
  /FATAL: [^\n]*\n/,
  /Installation failed\.[^\n]*\n/,
  /ERROR: no rootfs\.img found[^\n]*\n/,
  /Kernel panic - not syncing[^\n]*\n/,
];
