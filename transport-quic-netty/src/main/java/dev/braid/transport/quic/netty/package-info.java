/** Braid's QUIC transport on Netty's QUIC codec: the provider ({@link NettyQuicTransportProvider}) and its options. */
package dev.braid.transport.quic.netty;
