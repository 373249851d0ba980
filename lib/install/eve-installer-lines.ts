// What EVE's installer prints (pkg/installer/install in lf-edge/eve; ../shared/EVE-FACTS.md). Progress lines carry
// a `YYYY-MM-DD HH:MM:SS : ` prefix; the NOTICE lines do not (stable since EVE 3.0).
export const INSTALLER_STARTED = /EVE-OS installation started/;
// The whole line must have arrived: a chunk boundary inside the device name would otherwise match a prefix of it.
export const INSTALLING_ON = /Installing EVE-OS on device (\S+)[ \t]*\r?\n/;
export const INSTALL_COMPLETED = /EVE-OS installation completed, device will now (reboot|poweroff)/;
export const NOTICE_REBOOT = /NOTICE: Device will now reboot\./;
export const NOTICE_POWEROFF = /NOTICE: Device will now power off\. Remove the USB stick and power it back on to complete the installation\./;
// eve_pause_before_install / eve_pause_after_install: `Pausing before <x>. Entering shell. Type 'exit' to proceed to
// <x>`, where <x> is several words (`start the installation`, `shutting the node down`); the installer then waits
// for a shell on the console to exit. The whole line must have arrived, so the reason is never cut short.
export const PAUSE = /Pausing before ([^\n]+?)\. Entering shell\.[^\n]*\n/;

/** The kernel option behind each of EVE's pause reasons. */
export const PAUSE_OPTIONS: Record<string, string> = {
  'start the installation': 'eve_pause_before_install',
  'shutting the node down': 'eve_pause_after_install',
};

// Since EVE 16.13 the installer creates an EFI NVRAM boot entry after its "completed" line (create_efi_boot_entry):
// without UEFI firmware variables (a legacy BIOS/CSM boot) efivarfs cannot be mounted, and a firmware that refuses
// the new variable fails efibootmgr.
export const EFI_VARS_FAILURE = /FATAL: cannot mount efivarfs/;
export const EFI_ENTRY_FAILURE = /FATAL: cannot create EFI boot entry/;

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
