// An independent yamux peer for Braid's YamuxInteropTest: js-libp2p's @chainsafe/libp2p-yamux over a
// plain loopback TCP socket. It reports what it sees as JSON lines on stdout; the Java test asserts on them.
//
//   node yamux-peer.mjs listen            listens on 127.0.0.1:0, prints {"event":"listening","port":N}
//   node yamux-peer.mjs dial PORT         dials 127.0.0.1:PORT
//
// Every stream Braid opens starts with one ASCII command line ending in "\n":
//   echo                 echo every byte; after Braid's FIN, send FIN
//   sha                  read to FIN, answer "<sha256 hex>\n" and FIN
//   slow-sha             as sha, but pause reading for 30 ms after every 64 KiB (window-limited transfer)
//   check N SEED         read to FIN, checking every byte against pattern(SEED) (below); report the first
//                        byte out of place and the count, close (js-yamux drops data after a FIN silently:
//                        only a count and a check of every byte can show a FIN that overtook data)
//   source N             send N random bytes then FIN at once; keep reading to Braid's FIN; report both
//   source-after-fin N   wait for Braid's FIN, then send N random bytes and FIN
//   reset                reset the stream at once (RST)
//   wait-reset           report when Braid resets the stream
//   open-echo K          open K streams to Braid, each sends "hello I", FIN, expects it echoed back
//   open-source N        open a stream to Braid, send N random bytes + FIN, expect "<sha256 hex>\n" back
//   close                close the muxer gracefully (go-away) and exit

import './polyfill.mjs'
import net from 'node:net'
import crypto from 'node:crypto'
import { yamux } from '@chainsafe/libp2p-yamux'
import { defaultLogger } from '@libp2p/logger'
// Not exported from @libp2p/tcp's index: import the file.
import { toMultiaddrConnection } from './node_modules/@libp2p/tcp/dist/src/socket-to-conn.js'

const log = defaultLogger().forComponent('braid:yamux-peer')

function report (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function bytesOf (data) {
  // data is a Uint8Array or a Uint8ArrayList
  return typeof data.subarray === 'function' && !('bufs' in data) ? data : data.subarray()
}

async function sendAll (stream, buf) {
  if (!stream.send(buf)) {
    await stream.onDrain()
  }
}

async function sendRandom (stream, n) {
  const hash = crypto.createHash('sha256')
  let left = n
  while (left > 0) {
    const chunk = crypto.randomBytes(Math.min(left, 64 * 1024))
    hash.update(chunk)
    left -= chunk.length
    await sendAll(stream, chunk)
  }
  return hash.digest('hex')
}

/** Collects the first line, then hands the rest of the bytes to handlers. */
function readStream (stream, { onLine, onData, onEnd }) {
  let line = null
  let pending = Buffer.alloc(0)
  stream.addEventListener('message', evt => {
    let buf = Buffer.from(bytesOf(evt.data))
    if (line === null) {
      pending = Buffer.concat([pending, buf])
      const nl = pending.indexOf(10)
      if (nl < 0) {
        return
      }
      line = pending.subarray(0, nl).toString('ascii')
      buf = pending.subarray(nl + 1)
      onLine(line)
    }
    if (buf.length > 0) {
      onData(buf)
    }
  })
  // 'end', not 'remoteCloseWrite': the FIN may overtake bytes still buffered while the stream is paused.
  stream.addEventListener('end', () => onEnd())
}

/**
 * The byte pattern of 'check', shared with YamuxInteropTest: 32-bit words of the LCG
 * x = x * 1664525 + 1013904223 (mod 2^32) starting from SEED, each word's bytes little-endian.
 */
function pattern (seed) {
  let x = seed >>> 0
  let word = 0
  let k = 4
  return () => {
    if (k === 4) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0
      word = x
      k = 0
    }
    return (word >>> (8 * k++)) & 0xff
  }
}

function handleInbound (muxer, stream) {
  const id = stream.streamId ?? stream.id
  stream.addEventListener('close', evt => {
    report({ event: 'closed', stream: id, status: stream.status, error: evt.error ? String(evt.error.name ?? evt.error) : null })
  })
  let mode = null
  let args = []
  const hash = crypto.createHash('sha256')
  let received = 0
  let finSeen = false
  let pauses = 0
  const afterFin = Promise.withResolvers()
  let next = null
  let firstBad = -1
  readStream(stream, {
    onLine: line => {
      [mode, ...args] = line.split(' ')
      if (mode === 'check') {
        next = pattern(Number(args[1]))
      }
      start().catch(err => report({ event: 'error', stream: id, mode, error: String(err) }))
    },
    onData: buf => {
      if (mode === 'check') {
        for (let i = 0; i < buf.length; i++) {
          if (buf[i] !== next() && firstBad < 0) {
            firstBad = received + i
          }
        }
      }
      received += buf.length
      if (mode === 'echo') {
        sendAll(stream, buf).catch(err => report({ event: 'error', stream: id, mode, error: String(err) }))
      } else {
        hash.update(buf)
      }
      if (mode === 'slow-sha' && Math.floor((received - buf.length) / 65536) !== Math.floor(received / 65536)) {
        pauses++
        stream.pause()
        setTimeout(() => { try { stream.resume() } catch (e) { log.error('resume %e', e) } }, 30)
      }
    },
    onEnd: () => {
      finSeen = true
      afterFin.resolve()
    }
  })

  async function start () {
    switch (mode) {
      case 'echo':
        await afterFin.promise
        await stream.close()
        report({ event: 'echo-done', stream: id, bytes: received })
        break
      case 'sha':
      case 'slow-sha': {
        await afterFin.promise
        const digest = hash.digest('hex')
        await sendAll(stream, Buffer.from(digest + '\n'))
        await stream.close()
        report({ event: 'sha-done', stream: id, bytes: received, sha256: digest, pauses })
        break
      }
      case 'check': {
        await afterFin.promise
        await stream.close()
        const expected = Number(args[0])
        report({ event: 'check-done', stream: id, expected, bytes: received, firstBad, ok: received === expected && firstBad < 0 })
        break
      }
      case 'source': {
        const sent = await sendRandom(stream, Number(args[0]))
        await stream.close()
        report({ event: 'source-sent', stream: id, bytes: Number(args[0]), sha256: sent, readStillOpen: !finSeen })
        await afterFin.promise
        report({ event: 'source-done', stream: id, bytes: Number(args[0]), sha256: sent, received, receivedSha256: hash.digest('hex') })
        break
      }
      case 'source-after-fin': {
        await afterFin.promise
        report({ event: 'fin-seen', stream: id, received })
        const sent = await sendRandom(stream, Number(args[0]))
        await stream.close()
        report({ event: 'source-done', stream: id, bytes: Number(args[0]), sha256: sent })
        break
      }
      case 'reset':
        stream.abort(new Error('reset requested by the Braid test'))
        report({ event: 'reset-sent', stream: id })
        break
      case 'wait-reset':
        stream.addEventListener('close', () => {
          report({ event: 'reset-seen', stream: id, status: stream.status })
        })
        report({ event: 'waiting-reset', stream: id })
        break
      case 'open-echo':
        await stream.close()
        await openEcho(muxer, Number(args[0]))
        break
      case 'open-source':
        await stream.close()
        await openSource(muxer, Number(args[0]))
        break
      case 'close':
        report({ event: 'closing' })
        await muxer.close()
        report({ event: 'closed-muxer' })
        setTimeout(() => process.exit(0), 200)
        break
      default:
        report({ event: 'error', stream: id, error: 'unknown command ' + mode })
        stream.abort(new Error('unknown command'))
    }
  }
}

async function collect (stream) {
  const chunks = []
  const done = Promise.withResolvers()
  stream.addEventListener('message', evt => chunks.push(Buffer.from(bytesOf(evt.data))))
  stream.addEventListener('end', () => done.resolve())
  stream.addEventListener('close', evt => {
    if (evt.error) {
      done.reject(evt.error)
    } else {
      done.resolve()
    }
  })
  await done.promise
  return Buffer.concat(chunks)
}

async function openEcho (muxer, k) {
  const results = await Promise.allSettled(Array.from({ length: k }, async (_, i) => {
    const s = await muxer.createStream()
    const got = collect(s)
    const msg = Buffer.from('hello ' + i)
    await sendAll(s, msg)
    await s.close()
    const back = await got
    return back.equals(msg)
  }))
  const ok = results.filter(r => r.status === 'fulfilled' && r.value).length
  const errors = results.filter(r => r.status === 'rejected').map(r => String(r.reason)).slice(0, 3)
  report({ event: 'open-echo-done', streams: k, ok, errors })
}

async function openSource (muxer, n) {
  const s = await muxer.createStream()
  const got = collect(s)
  const sent = await sendRandom(s, n)
  await s.close()
  const answer = (await got).toString('ascii').trim()
  report({ event: 'open-source-done', bytes: n, sha256: sent, answer, match: answer === sent })
}

function attach (socket, direction) {
  socket.setNoDelay(true)
  const maConn = toMultiaddrConnection({ socket, direction, log: log.newScope('conn') })
  const muxer = yamux()().createStreamMuxer(maConn)
  muxer.addEventListener('stream', evt => handleInbound(muxer, evt.detail))
  maConn.addEventListener('close', evt => {
    report({ event: 'connection-closed', error: evt.error ? String(evt.error) : null })
  })
  report({ event: 'connected', direction })
  return muxer
}

const [mode, port] = process.argv.slice(2)
if (mode === 'listen') {
  const server = net.createServer(socket => attach(socket, 'inbound'))
  server.listen(0, '127.0.0.1', () => report({ event: 'listening', port: server.address().port }))
} else if (mode === 'dial') {
  const socket = net.connect(Number(port), '127.0.0.1')
  socket.once('connect', () => attach(socket, 'outbound'))
  socket.once('error', err => {
    report({ event: 'error', error: String(err) })
    process.exit(2)
  })
} else {
  process.stderr.write('usage: node yamux-peer.mjs listen | dial PORT\n')
  process.exit(64)
}
process.on('uncaughtException', err => {
  report({ event: 'error', error: 'uncaught: ' + String(err && err.stack || err) })
})
process.on('unhandledRejection', err => {
  report({ event: 'error', error: 'unhandled rejection: ' + String(err && err.stack || err) })
})
