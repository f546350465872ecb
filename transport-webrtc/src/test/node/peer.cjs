// An independent WebRTC peer for Braid (libdatachannel through node-datachannel, not libwebrtc):
// dials a Braid listener through its HTTP signaling endpoint and speaks the libp2p WebRTC framing,
// written here from scratch. Prints key=value results, one per line, then "done".
// Usage: node peer.cjs <signaling-url> <bearer-token>
'use strict';
const ndc = require('node-datachannel');

const [signaling, token] = process.argv.slice(2);
// BRAID_NODE_PEER_LOG=Verbose|Debug|Info|Warning|Error: libdatachannel's log on stderr, one "log ..." line per
// entry (node-datachannel 0.33.4 requires the callback).
if (process.env.BRAID_NODE_PEER_LOG) {
  ndc.initLogger(process.env.BRAID_NODE_PEER_LOG,
    (level, message) => process.stderr.write('log ' + level + ': ' + String(message).replace(/\r?\n/g, ' | ') + '\n'));
}
const results = {};
const out = (k, v) => { results[k] = v; };

function uvarint(n) { const o = []; while (n >= 0x80) { o.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); } o.push(n); return o; }
function readVarint(b, p) { let v = 0, mul = 1; for (;;) { if (p >= b.length) throw new Error('truncated varint'); const x = b[p++]; v += (x & 0x7f) * mul; if (!(x & 0x80)) return [v, p]; mul *= 128; } }
const FIN = 0, STOP_SENDING = 1, RESET_STREAM = 2, FIN_ACK = 3;
function encode(m) {
  const body = [];
  if (m.flag !== undefined) body.push(0x08, ...uvarint(m.flag));
  if (m.data) { body.push(0x12, ...uvarint(m.data.length)); for (const x of m.data) body.push(x); }
  if (m.code !== undefined) body.push(0x18, ...uvarint(m.code));
  return Buffer.from([...uvarint(body.length), ...body]);
}
function decodeAll(buf) {
  const frames = []; let p = 0;
  while (p < buf.length) {
    let len; [len, p] = readVarint(buf, p); const end = p + len; const f = {};
    if (end > buf.length) throw new Error('truncated record');
    while (p < end) {
      let tag; [tag, p] = readVarint(buf, p); const field = tag >>> 3, wt = tag & 7;
      if (wt === 0) { let v; [v, p] = readVarint(buf, p); if (field === 1) f.flag = v; else if (field === 3) f.code = v; }
      else if (wt === 2) { let l; [l, p] = readVarint(buf, p); if (field === 2) f.data = buf.subarray(p, p + l); p += l; }
      else throw new Error('unexpected wire type ' + wt);
    }
    frames.push(f);
  }
  return frames;
}

class Stream {
  constructor(dc) {
    this.dc = dc; this.chunks = []; this.fin = false; this.finAck = false; this.reset = null; this.closed = false;
    this.waiters = [];
    this.opened = new Promise(r => { if (dc.isOpen()) r(); else dc.onOpen(() => r()); });
    dc.onMessage(msg => {
      const b = Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
      for (const f of decodeAll(b)) {
        if (f.data && f.data.length) this.chunks.push(Buffer.from(f.data));
        if (f.flag === FIN) { this.fin = true; this.send({flag: FIN_ACK}); }
        else if (f.flag === FIN_ACK) this.finAck = true;
        else if (f.flag === RESET_STREAM) this.reset = f.code === undefined ? 0 : f.code;
      }
      this.wake();
    });
    dc.onClosed(() => { this.closed = true; this.wake(); });
  }
  wake() { const w = this.waiters; this.waiters = []; w.forEach(f => f()); }
  async until(pred, what, ms = 20000) {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('timeout waiting for ' + what);
      await new Promise(r => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }
  send(m) { if (this.dc.isOpen()) this.dc.sendMessageBinary(encode(m)); }
  write(buf) { for (let i = 0; i < buf.length; i += 16000) this.send({data: buf.subarray(i, Math.min(buf.length, i + 16000))}); }
  text() { return Buffer.concat(this.chunks).toString('latin1'); }
}

// The offer carries no candidates of ours: Braid then cannot reach this peer before this peer has applied
// the answer, because its first packet to us answers our first connectivity check, and libdatachannel
// sends that only for a remote candidate it adds after storing the answer. libdatachannel 0.24.5 needs
// that: its setRemoteDescription hands the answer's ICE credentials to libjuice before it stores the
// answer, and its DTLS certificate check reads the stored answer's fingerprint. A candidate in the offer
// lets Braid (like any libwebrtc answerer) start ICE checks and its DTLS ClientHello (a=setup:active)
// before the answer has even arrived here, so libjuice already knows a working pair and has the
// ClientHello queued; the whole handshake can then finish inside setRemoteDescription, between those two
// steps, and the check finds no fingerprint: "DTLS alert: unknown CA", the connection closes, and
// setRemoteDescription fails adding the answer's candidates ("Got a remote candidate without ICE
// transport"). Braid learns our address from our checks instead (a peer-reflexive candidate, RFC 8445
// 7.3.1.3). The answer's own candidates are added by setRemoteDescription after it stored the answer.
function withoutCandidates(sdp) {
  return sdp.split(/\r?\n/).filter(l => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n');
}

const keep = [];
const t0 = Date.now();
const mark = what => out('ms_' + what, Date.now() - t0);

async function main() {
  // Negotiation is started explicitly (not by libdatachannel's auto-negotiation), once.
  const pc = new ndc.PeerConnection('braid-node-peer', {iceServers: [], disableAutoNegotiation: true});
  const gathered = new Promise(r => pc.onGatheringStateChange(s => { if (s === 'complete') r(); }));
  const braidStreams = [];
  pc.onDataChannel(dc => braidStreams.push(new Stream(dc)));
  const control = pc.createDataChannel('braid-control', {negotiated: true, id: 0});
  const controlOpen = new Promise(r => control.onOpen(() => r()));
  // node-datachannel closes a peer connection or channel whose JS object is garbage collected: keep
  // both reachable for the whole run.
  keep.push(pc, control);
  pc.setLocalDescription('offer');
  await gathered;
  mark('gathered');
  const offer = withoutCandidates(pc.localDescription().sdp);
  const res = await fetch(signaling, {method: 'POST', headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}, body: offer});
  out('signalingStatus', res.status);
  mark('answered');
  if (res.status !== 201) throw new Error('signaling answered ' + res.status + ': ' + await res.text());
  pc.setRemoteDescription(await res.text(), 'answer');
  await Promise.race([controlOpen, new Promise((_, j) => setTimeout(() => j(new Error('control channel did not open')), 15000))]);
  out('connected', true);
  mark('connected');

  // A: we open, write 100,000 bytes in records, half-close; Braid echoes them and half-closes.
  const a = new Stream(pc.createDataChannel('', {}));
  await a.opened;
  const payload = Buffer.alloc(100000, 'n'); payload.write('A:');
  a.write(payload);
  a.send({flag: FIN});
  await a.until(() => a.finAck, 'FIN_ACK on A');
  await a.until(() => a.fin, 'FIN on A');
  out('A_echoOk', a.text() === 'echo:' + payload.toString('latin1'));
  await a.until(() => a.closed, 'A closed after FIN/FIN_ACK both ways');
  out('A_channelClosed', true);

  // R: we write, then reset with code 77.
  const r = new Stream(pc.createDataChannel('', {}));
  await r.opened;
  r.write(Buffer.from('R:reset soon'));
  await new Promise(z => setTimeout(z, 200));
  r.send({flag: RESET_STREAM, code: 77});
  out('R_sent', true);

  // B: Braid opens, writes and half-closes; we reply and half-close.
  await a.until(() => braidStreams.length > 0, 'a Braid-opened stream');
  const b = braidStreams[0];
  await b.until(() => b.fin, 'FIN on B');
  out('B_received', b.text());
  b.write(Buffer.from('reply:' + b.text()));
  b.send({flag: FIN});
  await b.until(() => b.finAck, 'FIN_ACK on B');
  await b.until(() => b.closed, 'B closed after FIN/FIN_ACK both ways');
  out('B_channelClosed', true);
  out('done', true);
  pc.close();
}

main().catch(e => out('error', String(e && e.stack || e).replace(/\n/g, ' | ')))
  .finally(() => {
    for (const [k, v] of Object.entries(results)) console.log(k + '=' + v);
    console.log('end');
    setTimeout(() => { ndc.cleanup(); process.exit(0); }, 200);
  });
