/**
 * Runnable examples of Braid over any URI: {@link dev.braid.examples.FileTransfer} (one file on one half-closed
 * stream, verified with SHA-256 and acknowledged) and {@link dev.braid.examples.EchoService} (a request/response
 * service answering many concurrent streams with the asynchronous API). Neither names a transport: the URI's scheme
 * picks one at run time.
 */
package dev.braid.examples;
