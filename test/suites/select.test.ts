// Which suites a run executes: what the program's level requires, read from the program file.
import { expect } from 'chai';
import { loadProgram } from '../../lib/program/program.ts';
import { suitesFor } from '../../lib/run/qualify-run.ts';
import { ALL_SUITES } from '../../suites/index.ts';

describe('suites for a level (from suites/program.yaml)', () => {
  const program = loadProgram();
  const caps = (o: Parameters<typeof suitesFor>[1]) => suitesFor(ALL_SUITES, o).map((s) => s.capability);

  it('level 1 runs basic I/O only (Ethernet, USB), inventory first', () => {
    expect(caps({ program, level: 1 })).to.deep.equal(['inventory', 'ethernet', 'usb']);
  });

  it('level 2 runs every suite (every declared item must work)', () => {
    expect(caps({ program, level: 2 })).to.have.members(['inventory', 'ethernet', 'usb', 'storage', 'tpm', 'virtualization', 'cellular', 'watchdog']);
  });

  it('a program level that lists fewer capabilities runs only those', () => {
    const custom = { ...program, levels: [{ ...program.levels[0]!, capabilities: { install: 'all' as const, ethernet: 'all' as const } }] };
    expect(caps({ program: custom, level: 1 })).to.deep.equal(['inventory', 'ethernet']);
  });

  it('--capability runs one suite plus inventory; an unknown level is a config error', () => {
    expect(caps({ program, capability: 'watchdog' })).to.deep.equal(['inventory', 'watchdog']);
    expect(() => caps({ program, level: 9 })).to.throw(/has no level 9/);
  });
});
