/** Implementation of the QUIC transport on kwik; not exported. */
package dev.braid.transport.quic.internal;
