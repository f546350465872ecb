/** Braid's QUIC transport: {@link dev.braid.transport.quic.QuicTransportProvider}, id {@code quic}. */
package dev.braid.transport.quic;
