// The link factory: a profile's plain link object to the right kind of Link, and a ConfigError naming the field for
// every mistake a hand-written profile can make. Nothing is opened here.
import { expect } from 'chai';
import { ConfigError } from '../../lib/errors.ts';
import { createLink, parseLinkConfig, type LinkConfig } from '../../lib/link/create-link.ts';
import { ProcessLink } from '../../lib/link/process-link.ts';
import { QemuSocketLink } from '../../lib/link/qemu-socket-link.ts';
import { SerialLink } from '../../lib/link/serial-link.ts';
import { TcpSerialLink } from '../../lib/link/tcp-serial-link.ts';

function configError(raw: unknown): ConfigError {
  try {
    createLink(raw as LinkConfig, 'console.link');
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe('createLink', () => {
  it('builds each kind with its name and options', () => {
    const serial = createLink({ type: 'serial', path: '/dev/serial/by-id/usb-FTDI-if00', baudRate: 921600, parity: 'even' });
    expect(serial).to.be.instanceOf(SerialLink);
    expect(serial.name).to.equal('serial:/dev/serial/by-id/usb-FTDI-if00');
    expect((serial as SerialLink).settings).to.include({ baudRate: 921600, parity: 'even', dataBits: 8, stopBits: 1 });

    const tcp = createLink({ type: 'tcp', host: 'lab-ts1', port: 4001, protocol: 'rfc2217', baudRate: 9600, parity: 'mark' });
    expect(tcp).to.be.instanceOf(TcpSerialLink);
    expect(tcp.name).to.equal('tcp:lab-ts1:4001 (rfc2217)');
    expect((tcp as TcpSerialLink).settings.baudRate).to.equal(9600);
    expect(createLink({ type: 'tcp', host: '::1', port: 4001 }).name).to.equal('tcp:[::1]:4001 (raw)');

    expect(createLink({ type: 'qemu', path: '/run/box.sock' })).to.be.instanceOf(QemuSocketLink);
    expect(createLink({ type: 'qemu', path: '/run/box.sock' }).name).to.equal('qemu:unix:/run/box.sock');
    expect(createLink({ type: 'qemu', host: '127.0.0.1', port: 4555 }).name).to.equal('qemu:tcp:127.0.0.1:4555');

    const proc = createLink({ type: 'process', command: ['ipmitool', '-I', 'lanplus', '-P', 'secret', 'sol', 'activate'] });
    expect(proc).to.be.instanceOf(ProcessLink);
    expect(proc.name).to.equal('process:ipmitool');
    expect(createLink({ type: 'process', command: ['ipmitool'], name: 'sol:bmc1' }).name).to.equal('sol:bmc1');
    expect(serial.state).to.equal('closed');
  });

  it('accepts a config straight from YAML (untyped) and keeps only what was given', () => {
    expect(parseLinkConfig({ type: 'serial', path: '/dev/ttyS0', reconnectDeadlineMs: 5000 })).to.deep.include({
      type: 'serial',
      path: '/dev/ttyS0',
      reconnectDeadlineMs: 5000,
    });
  });

  const cases: [string, unknown, string, RegExp][] = [
    ['not an object', 'serial:/dev/ttyUSB0', 'console.link', /must be an object/],
    ['no type', { path: '/dev/ttyUSB0' }, 'console.link.type', /is required: one of serial, tcp, qemu, process/],
    ['unknown type', { type: 'ssh' }, 'console.link.type', /must be one of/],
    ['serial without path', { type: 'serial' }, 'console.link.path', /is required/],
    ['misspelt field', { type: 'serial', path: '/dev/ttyUSB0', baudrate: 9600 }, 'console.link.baudrate', /unknown field/],
    ['bad baud rate', { type: 'serial', path: '/dev/ttyUSB0', baudRate: '115200' }, 'console.link.baudRate', /positive integer/],
    ['bad parity', { type: 'serial', path: '/dev/ttyUSB0', parity: 'N' }, 'console.link.parity', /one of none, even/],
    ['mark parity on a local device', { type: 'serial', path: '/dev/ttyUSB0', parity: 'mark' }, 'console.link.parity', /not supported by a local serial device/],
    ['bad stop bits', { type: 'serial', path: '/dev/ttyUSB0', stopBits: 3 }, 'console.link.stopBits', /1, 1.5 or 2/],
    ['port as a string', { type: 'tcp', host: 'ts1', port: '4001' }, 'console.link.port', /TCP port/],
    ['port out of range', { type: 'tcp', host: 'ts1', port: 70000 }, 'console.link.port', /TCP port/],
    ['unknown protocol', { type: 'tcp', host: 'ts1', port: 4001, protocol: 'ssh' }, 'console.link.protocol', /raw, telnet, rfc2217/],
    ['baud rate on a raw port', { type: 'tcp', host: 'ts1', port: 4001, baudRate: 9600 }, 'console.link.baudRate', /only with protocol rfc2217/],
    ['confirmOpen on a raw port', { type: 'tcp', host: 'ts1', port: 4001, confirmOpen: false }, 'console.link.confirmOpen', /only with protocol telnet or rfc2217/],
    ['confirmOpen as a string', { type: 'tcp', host: 'ts1', port: 4001, protocol: 'telnet', confirmOpen: 'no' }, 'console.link.confirmOpen', /true or false/],
    ['qemu with both addresses', { type: 'qemu', path: '/s', host: 'h', port: 1 }, 'console.link', /either path .* or host and port/],
    ['qemu with no address', { type: 'qemu' }, 'console.link', /needs path/],
    ['process as a shell line', { type: 'process', command: 'ipmitool sol activate' }, 'console.link.command', /not a shell line/],
    ['process with empty argv', { type: 'process', command: [] }, 'console.link.command', /non-empty array/],
    ['process with bad stderr', { type: 'process', command: ['x'], stderr: 'log' }, 'console.link.stderr', /data, ignore/],
    ['negative timeout', { type: 'serial', path: '/dev/ttyUSB0', connectTimeoutMs: -1 }, 'console.link.connectTimeoutMs', /positive/],
  ];
  for (const [what, raw, where, message] of cases) {
    it(`refuses ${what}, naming ${where}`, () => {
      const err = configError(raw);
      expect(err.where).to.equal(where);
      expect(err.message.startsWith(`${where}:`), err.message).to.equal(true);
      expect(err.message).to.match(message);
    });
  }
});
