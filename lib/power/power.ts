// The Power seam: on / off / cycle / state. Drivers: QEMU (QMP), manual (operator), command, IPMI, Redfish, PDU.
// `unknown` is an honest answer for drivers that cannot read state back (a PDU behind pdudaemon): the box layer then
// confirms power from what it can see (console traffic, SSH).

export type PowerState = 'on' | 'off' | 'unknown';

export interface Power {
  /** `qemu:box1`, `ipmi:10.0.0.9`...: used in every error. */
  readonly where: string;
  /**
   * false for drivers that cannot read the state back (state() always answers `unknown`, on/off only mean "the
   * request was accepted"): whoever needs certainty confirms from the console or SSH. Absent means true.
   */
  readonly readsState?: boolean;
  on(): Promise<void>;
  off(): Promise<void>;
  /** Off, the minimum off time, on (or a reset where the driver has one that is equivalent). */
  cycle(): Promise<void>;
  state(): Promise<PowerState>;
  /** Release what the driver holds (a Redfish session); idempotent. Absent when there is nothing to release. */
  close?(): Promise<void>;
}
