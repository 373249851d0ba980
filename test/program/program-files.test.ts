import { expect } from 'chai';
import { ConfigError } from '../../lib/errors.ts';
import { defaultProgramFile, loadProgram, parseProgram } from '../../lib/program/program.ts';
import { compareVersions, newestVersion } from '../../lib/program/versions.ts';
import { findWaiver, parseWaivers, waiverExpired } from '../../lib/program/waivers.ts';
import { DataFileError } from '../../lib/util/yaml-file.ts';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(DataFileError);
    return (e as Error).message.split('\n');
  }
  expect.fail('no error');
}

const good = `name: test program
levels:
  - level: 1
    name: one
    capabilities: { install: all, ethernet: any }
    samples: 1
    models: one
    release: any
    runBy: anyone
`;

describe('program: the program and waivers files', () => {
  it('suites/program.yaml loads', () => {
    const p = loadProgram(defaultProgramFile);
    expect(p.name).to.equal('EVE-OS hardware qualification');
    expect(p.levels.map((l) => l.name)).to.deep.equal(['OSS via Project EVE Community', 'General Ecosystem Partner', 'Hardware AVL', 'Preferred Partner']);
  });

  it('reports every problem as file:line:col: path: message', () => {
    const text = good
      .replace('{ install: all, ethernet: any }', '{ install: all, ethernet: some, warp-drive: all }')
      .replace('samples: 1', 'samples: 0')
      .replace('runBy: anyone', 'runBy: anyone\n    colour: blue');
    expect(problems(() => parseProgram(text, 'p.yaml'))).to.deep.equal([
      'p.yaml:5:45: levels[0].capabilities.ethernet: must be all, any, or { any: { with: CHECK, what: WORDS } }',
      'p.yaml:5:51: levels[0].capabilities.warp-drive: unknown field',
      'p.yaml:6:14: levels[0].samples: Too small: expected number to be >=1',
      'p.yaml:10:5: levels[0].colour: unknown field',
    ]);
  });

  it('cross-field rules: duplicate levels, inventory, verification by the same role', () => {
    const text = `${good}${good.split('\n').slice(2).join('\n').replace('capabilities: { install: all, ethernet: any }', 'capabilities: { inventory: all }').replace('runBy: anyone', 'runBy: owner\n    verify: { runBy: owner }')}`;
    const p = problems(() => parseProgram(text, 'p.yaml'));
    expect(p).to.deep.equal([
      'p.yaml:10:12: levels[1].level: level 1 is defined twice',
      'p.yaml:10:12: levels[1].level: levels must be listed in increasing order',
      'p.yaml:12:32: levels[1].capabilities.inventory: inventory is always collected and never a reason to fail',
      'p.yaml:17:22: levels[1].verify.runBy: verification must be by someone else than the runs it verifies (runBy is owner)',
    ]);
  });

  it('a missing file or bad YAML is a ConfigError', () => {
    expect(() => loadProgram('/nonexistent/program.yaml')).to.throw(ConfigError, /cannot read program \/nonexistent\/program\.yaml: no such file/);
    expect(problems(() => parseProgram('name: [unclosed\n', 'p.yaml'))[0]).to.match(/^p\.yaml:\d+:\d+: \(top level\): YAML: /);
  });

  it('waivers: dates checked, a scope must name what it waives, expiry is inclusive of its day', () => {
    const text = `waivers:
  - scope: { vendor: Acme, capability: cellular }
    reason: no SIM
    by: jane
    until: 2026-02-30
  - scope: { vendor: Acme }
    reason: everything
    by: joe
    until: 2026-01-01
  - scope: { capability: usb, test: ethernet/eth0 has carrier }
    reason: x
    by: y
    until: 2026-01-01
`;
    expect(problems(() => parseWaivers(text, 'w.yaml'))).to.deep.equal([
      'w.yaml:5:12: waivers[0].until: not a calendar date',
    ]);
    expect(problems(() => parseWaivers(text.replace('2026-02-30', '2026-02-28'), 'w.yaml'))).to.deep.equal([
      'w.yaml:6:12: waivers[1].scope: a waiver names what it waives: capability, item or test (a whole box cannot be waived)',
      'w.yaml:10:37: waivers[2].scope.test: test ethernet/eth0 has carrier is not a usb test (ids are <capability>/<check>)',
    ]);
    const [w] = parseWaivers(text.split('  - scope: { vendor: Acme }')[0]!.replace('2026-02-30', '2026-02-28'), 'w.yaml');
    expect(waiverExpired(w!, new Date('2026-02-28T23:59:59Z'))).to.equal(false);
    expect(waiverExpired(w!, new Date('2026-03-01T00:00:00Z'))).to.equal(true);
    const target = { vendor: 'Acme', model: 'X', sample: 'S', release: '1', level: 2, capability: 'cellular' as const, test: 'cellular/modems register' };
    expect(findWaiver([w!], target, new Date('2026-01-01')).active).to.equal(w);
    expect(findWaiver([w!], target, new Date('2026-03-01')).expired).to.equal(w);
    expect(findWaiver([w!], { ...target, vendor: 'Bolt' }, new Date('2026-01-01'))).to.deep.equal({});
  });

  it('release versions order numerically, a release above its candidates', () => {
    const sorted = ['13.10.0', '13.4.0', '9.9.9', '13.4.0-rc1', '13.4.0-rc10', '13.4.0-rc2', '14.0.0-lts', '0.0.0-fixture', '13.4.1'].sort(compareVersions);
    expect(sorted).to.deep.equal(['0.0.0-fixture', '9.9.9', '13.4.0-rc1', '13.4.0-rc2', '13.4.0-rc10', '13.4.0', '13.4.1', '13.10.0', '14.0.0-lts']);
    expect(newestVersion(['13.4.0', '13.10.0', '13.9.9'])).to.equal('13.10.0');
    expect(newestVersion([])).to.equal(null);
  });
});
