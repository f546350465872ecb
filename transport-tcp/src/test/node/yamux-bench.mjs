// The npm yamux muxer (js-libp2p's @chainsafe/libp2p-yamux) as a benchmark baseline for `braid bench`: what the
// anchor implementation of the same protocol moves over loopback TCP, Node to Node, and what Braid moves to it.
//
//   node yamux-bench.mjs sink                          listens on 127.0.0.1:0, prints {"port":N}; reads every
//                                                      inbound stream to its FIN, then closes it (FIN back)
//   node yamux-bench.mjs source PORT STREAMS WARMUP_S TRIAL_S N
//                                                      dials 127.0.0.1:PORT; a transfer opens STREAMS streams, each
//                                                      sends its share and FIN, and waits for the FIN back. Warm-up:
//                                                      transfers for WARMUP_S seconds, each sized from the last
//                                                      rate; then N trials sized to last about TRIAL_S seconds;
//                                                      prints {"trial":i,"mbps":x} per trial, then {"done":true}

import './polyfill.mjs'
import net from 'node:net'
import { yamux } from '@chainsafe/libp2p-yamux'
import { defaultLogger } from '@libp2p/logger'
import { toMultiaddrConnection } from './node_modules/@libp2p/tcp/dist/src/socket-to-conn.js'

const log = defaultLogger().forComponent('braid:yamux-bench')

function print (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function muxerOn (socket, direction) {
  socket.setNoDelay(true)
  const maConn = toMultiaddrConnection({ socket, direction, log: log.newScope('conn') })
  return yamux()().createStreamMuxer(maConn)
}

function sink (stream) {
  stream.addEventListener('message', () => {})
  stream.addEventListener('end', () => {
    stream.close().catch(err => print({ error: String(err) }))
  })
}

async function send (stream, chunk, bytes) {
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
    if (!stream.send(part)) {
      await stream.onDrain()
    }
  }
}

async function oneStream (muxer, chunk, bytes) {
  const s = await muxer.createStream()
  const ended = new Promise((resolve, reject) => {
    s.addEventListener('end', resolve)
    s.addEventListener('close', evt => (evt.error ? reject(evt.error) : resolve()))
  })
  s.addEventListener('message', () => {})
  await send(s, chunk, bytes)
  await s.close()
  await ended
}

const [mode, ...args] = process.argv.slice(2)
if (mode === 'sink') {
  const server = net.createServer(socket => {
    const muxer = muxerOn(socket, 'inbound')
    muxer.addEventListener('stream', evt => sink(evt.detail))
  })
  server.listen(0, '127.0.0.1', () => print({ port: server.address().port }))
} else if (mode === 'source') {
  const [port, streams, warmUpSeconds, trialSeconds, trials] = args.map(Number)
  const socket = net.connect(port, '127.0.0.1')
  socket.once('connect', async () => {
    try {
      const muxer = muxerOn(socket, 'outbound')
      const chunk = Buffer.alloc(64 * 1024, 83)
      const transfer = async bytes => {
        const t0 = process.hrtime.bigint()
        await Promise.all(Array.from({ length: streams }, () => oneStream(muxer, chunk, Math.floor(bytes / streams))))
        return bytes / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9)
      }
      const sized = (mbps, seconds) => Math.max(4 << 20, Math.round(mbps * 1e6 * seconds / 65536) * 65536)
      const warmEnd = process.hrtime.bigint() + BigInt(Math.round(warmUpSeconds * 1e9))
      let mbps = await transfer(8 << 20)
      while (process.hrtime.bigint() < warmEnd) {
        mbps = await transfer(sized(mbps, Math.min(trialSeconds, warmUpSeconds)))
      }
      const bytes = sized(mbps, trialSeconds)
      for (let i = 0; i < trials; i++) {
        print({ trial: i, mbps: await transfer(bytes) })
      }
      print({ done: true })
      process.exit(0)
    } catch (err) {
      print({ error: String(err && err.stack || err) })
      process.exit(1)
    }
  })
  socket.once('error', err => {
    print({ error: String(err) })
    process.exit(2)
  })
} else {
  process.stderr.write('usage: node yamux-bench.mjs sink | source PORT STREAMS WARMUP_S TRIAL_S TRIALS\n')
  process.exit(64)
}
