/** Internals of the WebRTC transport (framing codec, signaling endpoint and client, pollers); not exported. */
package dev.braid.transport.webrtc.internal;
