/**
 * The WebRTC transport's internals: the transport, listener, connection (handshake, control channel, liveness) and
 * streams (sender, receiver), the framing codec, the signaling endpoint and client; not exported.
 */
package dev.braid.transport.webrtc.internal;
