// Node 20 lacks Promise.withResolvers, which @libp2p/* and @chainsafe/libp2p-yamux call.
// Imported first by yamux-peer.mjs so it runs before those modules are evaluated.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
