// The npm yamux muxer (js-libp2p's @chainsafe/libp2p-yamux) as a benchmark baseline for `braid bench`: what the
// anchor implementation of the same protocol moves over loopback TCP, Node to Node, and what Braid moves to it.
//
//   node yamux-bench.mjs sink                          listens on 127.0.0.1:0, prints {"port":N}; reads every
//                                                      inbound stream to its FIN, then closes it (FIN back)
//   node yamux-bench.mjs source PORT STREAMS BYTES N   dials 127.0.0.1:PORT; N times: opens STREAMS streams, each
//                                                      sends BYTES / STREAMS bytes and FIN, waits for the FIN back;
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
  const [port, streams, bytes, trials] = args.map(Number)
  const socket = net.connect(port, '127.0.0.1')
  socket.once('connect', async () => {
    try {
      const muxer = muxerOn(socket, 'outbound')
      const chunk = Buffer.alloc(64 * 1024, 83)
      for (let i = 0; i < trials; i++) {
        const t0 = process.hrtime.bigint()
        await Promise.all(Array.from({ length: streams }, () => oneStream(muxer, chunk, Math.floor(bytes / streams))))
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        print({ trial: i, mbps: bytes / 1e6 / seconds })
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
  process.stderr.write('usage: node yamux-bench.mjs sink | source PORT STREAMS BYTES TRIALS\n')
  process.exit(64)
}
