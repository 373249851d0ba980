// An in-memory Link for unit tests of the console engine: the test feeds bytes in the chunking it wants and reads
// what the console wrote. Tests of real links and peers live in test/link and test/console/*.peer.test.ts.
import { EventEmitter } from 'node:events';
import type { Link, LinkEvents, LinkState } from '../../lib/link/link.ts';

export class MemoryLink extends EventEmitter<LinkEvents> implements Link {
  readonly name = 'memory:test';
  state: LinkState = 'closed';
  readonly writes: Buffer[] = [];

  async open(): Promise<void> {
    this.state = 'open';
    this.emit('open');
  }
  async write(data: Buffer | string): Promise<void> {
    this.writes.push(Buffer.from(data));
  }
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.emit('close');
  }
  feed(data: Buffer | string): void {
    this.emit('data', Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'));
  }
  /** Feed `data` in chunks of `size` bytes. */
  feedChunked(data: Buffer, size: number): void {
    for (let i = 0; i < data.length; i += size) this.emit('data', data.subarray(i, i + size));
  }
  written(): string {
    return Buffer.concat(this.writes).toString();
  }
  drop(err: Error): void {
    this.state = 'closed';
    this.emit('close', err);
  }
}
