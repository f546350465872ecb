/** The Netty QUIC transport's implementation; not an API. */
package dev.braid.transport.quic.netty.internal;
