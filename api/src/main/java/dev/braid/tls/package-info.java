/**
 * TLS for transports, outside the lifecycle SPI: listener identities (a configured keystore or a self-signed
 * certificate made at run time) and certificate pinning by SHA-256, the same for every transport. JDK only.
 */
package dev.braid.tls;
