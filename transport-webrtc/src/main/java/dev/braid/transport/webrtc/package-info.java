/** Braid's WebRTC transport: one data channel per stream, half-close by libp2p WebRTC framing, HTTP signaling. */
package dev.braid.transport.webrtc;
