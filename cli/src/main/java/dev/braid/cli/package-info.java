/** The {@code braid} command line: transports, conformance, bench, echo-server and echo-client. */
package dev.braid.cli;
