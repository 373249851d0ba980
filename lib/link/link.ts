// The Link seam: a duplex byte stream to a box. Everything above (console, shells) depends only on this interface;
// the kinds (serial device, serial over TCP, QEMU chardev socket, process stdio) live in their own files.
import type { EventEmitter } from 'node:events';

export type LinkState = 'closed' | 'opening' | 'open' | 'reconnecting';

/** A gap in the stream: the link was lost at `start` and came back (or gave up) at `end`. */
export interface LinkGap {
  start: Date;
  end: Date;
  cause: string;
  /** false when the reconnect deadline ran out and the link closed for good. */
  recovered: boolean;
}

export interface LinkEvents {
  /** Bytes from the box, in arrival order, never dropped. */
  data: [chunk: Buffer];
  /** The stream opened (first time). */
  open: [];
  /** The stream was lost; the link is trying to reopen it. */
  disconnect: [cause: string];
  /** The stream came back after a disconnect. */
  reconnect: [gap: LinkGap];
  /** The link closed: by close() (no error), or for good after a failed reconnect (with the error). */
  close: [err?: Error];
}

export interface Link extends EventEmitter<LinkEvents> {
  /** Human-readable address used in every error: `serial:/dev/ttyUSB0`, `tcp:lab-ts1:4001 (telnet)`... */
  readonly name: string;
  readonly state: LinkState;
  /** Open the stream; rejects with a LabError naming the device or host and the cause. */
  open(): Promise<void>;
  /** Write bytes; while reconnecting, waits for the link to come back (bounded by the reconnect deadline). */
  write(data: Buffer | string): Promise<void>;
  /** Close for good; idempotent. */
  close(): Promise<void>;
}
