/** Braid's TCP transport (provider id {@code tcp}, schemes {@code tcp} and {@code tcp+tls}): Netty below, yamux on top. */
package dev.braid.transport.tcp;
