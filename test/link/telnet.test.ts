// The telnet codec on its own: byte-exact decoding across chunk boundaries and the negotiation answers. The same codec
// is exercised against a real ser2net in tcp-serial-link.test.ts.
import { expect } from 'chai';
import { DO, DONT, IAC, SB, SE, TelnetCodec, TelnetOption, WILL, WONT, escapeIAC } from '../../lib/link/telnet.ts';

function codec(extra: Partial<ConstructorParameters<typeof TelnetCodec>[0]> = {}) {
  const sent: number[] = [];
  const options: [string, number, boolean][] = [];
  const subs: [number, number[]][] = [];
  const c = new TelnetCodec({
    send: (b) => sent.push(...b),
    acceptLocal: [TelnetOption.BINARY, TelnetOption.SGA],
    acceptRemote: [TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.ECHO],
    onOption: (side, opt, on) => options.push([side, opt, on]),
    onSubnegotiation: (opt, data) => subs.push([opt, [...data]]),
    ...extra,
  });
  return { c, sent, options, subs };
}

/** Decode `bytes` split at every possible point into two chunks, and also one byte at a time. */
function decodeAllSplits(bytes: number[], setup?: (c: TelnetCodec) => void): Buffer[] {
  const results: Buffer[] = [];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { c } = codec();
    setup?.(c);
    results.push(Buffer.concat([c.decode(Buffer.from(bytes.slice(0, cut))), c.decode(Buffer.from(bytes.slice(cut)))]));
  }
  const { c } = codec();
  setup?.(c);
  results.push(Buffer.concat(bytes.map((b) => c.decode(Buffer.from([b])))));
  return results;
}

describe('telnet codec', () => {
  it('strips commands and subnegotiations and unescapes IAC IAC, at any chunk boundary', () => {
    const wire = [0x41, IAC, WILL, TelnetOption.SGA, 0x42, IAC, IAC, 0x43, IAC, SB, 44, 101, IAC, IAC, 1, IAC, SE, 0x44, IAC, 241 /* NOP */, 0x45];
    for (const out of decodeAllSplits(wire)) expect([...out]).to.deep.equal([0x41, 0x42, IAC, 0x43, 0x44, 0x45]);
  });

  it('passes all 256 byte values through encode → decode in binary mode', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const a = codec();
    a.c.decode(Buffer.from([IAC, DO, TelnetOption.BINARY, IAC, WILL, TelnetOption.BINARY]));
    const b = codec();
    b.c.decode(Buffer.from([IAC, DO, TelnetOption.BINARY, IAC, WILL, TelnetOption.BINARY]));
    const wire = a.c.encode(all);
    expect(wire.length).to.equal(257); // only 0xFF is doubled: binary mode leaves CR alone
    expect(b.c.decode(wire).equals(all)).to.equal(true);
  });

  it('handles CR NUL outside binary mode, also split across chunks', () => {
    for (const out of decodeAllSplits([0x61, 13, 0, 0x62, 13, 10, 0x63])) expect([...out]).to.deep.equal([0x61, 13, 0x62, 13, 10, 0x63]);
    const { c } = codec();
    expect([...c.encode(Buffer.from('a\rb\r\n'))]).to.deep.equal([0x61, 13, 0, 0x62, 13, 10]);
  });

  it('keeps NUL after CR once the server sends binary', () => {
    for (const out of decodeAllSplits([13, 0], (c) => c.decode(Buffer.from([IAC, WILL, TelnetOption.BINARY]))))
      expect([...out]).to.deep.equal([13, 0]);
  });

  it('accepts BINARY, SGA and server ECHO, refuses the rest, and never answers twice', () => {
    const { c, sent } = codec();
    c.decode(Buffer.from([IAC, DO, TelnetOption.BINARY, IAC, WILL, TelnetOption.ECHO, IAC, DO, 24 /* TTYPE */, IAC, WILL, 31 /* NAWS */]));
    expect(sent).to.deep.equal([IAC, WILL, TelnetOption.BINARY, IAC, DO, TelnetOption.ECHO, IAC, WONT, 24, IAC, DONT, 31]);
    sent.length = 0;
    c.decode(Buffer.from([IAC, DO, TelnetOption.BINARY, IAC, WILL, TelnetOption.ECHO]));
    expect(sent, 'an option already on is not acknowledged again (no loop)').to.deep.equal([]);
    c.decode(Buffer.from([IAC, DONT, TelnetOption.BINARY]));
    expect(sent).to.deep.equal([IAC, WONT, TelnetOption.BINARY]);
    expect(c.isEnabled('local', TelnetOption.BINARY)).to.equal(false);
    expect(c.isEnabled('remote', TelnetOption.ECHO)).to.equal(true);
  });

  it('settles crossing requests (both sides offer at once) without a loop', () => {
    const { c, sent, options } = codec();
    c.requestLocal(TelnetOption.BINARY);
    c.requestRemote(TelnetOption.BINARY);
    // The server's own offers cross ours on the wire: they are the answers, not new requests.
    c.decode(Buffer.from([IAC, DO, TelnetOption.BINARY, IAC, WILL, TelnetOption.BINARY]));
    expect(sent).to.deep.equal([IAC, WILL, TelnetOption.BINARY, IAC, DO, TelnetOption.BINARY]);
    expect(options).to.deep.equal([
      ['local', TelnetOption.BINARY, true],
      ['remote', TelnetOption.BINARY, true],
    ]);
  });

  it('reports a refused request', () => {
    const { c, options } = codec();
    c.requestLocal(TelnetOption.COM_PORT);
    c.decode(Buffer.from([IAC, DONT, TelnetOption.COM_PORT]));
    expect(options).to.deep.equal([['local', TelnetOption.COM_PORT, false]]);
  });

  it('delivers subnegotiations with IAC unescaped and escapes them on send', () => {
    const { c, sent, subs } = codec();
    c.decode(Buffer.from([IAC, SB, 44, 101, 0, 0, IAC, IAC, 0, IAC, SE]));
    expect(subs).to.deep.equal([[44, [101, 0, 0, IAC, 0]]]);
    c.subnegotiate(44, Buffer.from([1, 0, 0, IAC, 0]));
    expect(sent).to.deep.equal([IAC, SB, 44, 1, 0, 0, IAC, IAC, 0, IAC, SE]);
    expect([...escapeIAC(Buffer.from([1, IAC, 2]))]).to.deep.equal([1, IAC, IAC, 2]);
  });
});
