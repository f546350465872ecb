/**
 * Braid's WebRTC transport (provider id {@code webrtc}, scheme {@code webrtc}): one data channel per stream, half-close
 * by libp2p WebRTC framing, HTTP signaling. The provider is the only public class; everything else is internal.
 */
package dev.braid.transport.webrtc;
