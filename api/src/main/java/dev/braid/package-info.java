/** Braid's user API: transports, connections, half-closable multiplexed streams and their lifecycle. */
package dev.braid;
