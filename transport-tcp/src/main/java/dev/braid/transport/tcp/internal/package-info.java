/** The TCP transport's internals: the yamux frame codec and session, connections, streams and TLS; not exported. */
package dev.braid.transport.tcp.internal;
