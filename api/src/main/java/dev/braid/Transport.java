package dev.braid;

import java.io.IOException;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One transport instance: dials and listens for one family of URI schemes, and owns the threads,
 * sockets and native resources of every connection it makes.
 *
 * <p><b>Thread safety.</b> This interface is thread-safe. {@link #dial} and {@link #listen} return without
 * waiting for the network (listen binds synchronously); {@link #close()} blocks until the transport's threads
 * have stopped. The future of {@link #dial} follows {@link MuxedStream}'s thread rules: dependent actions never
 * run on the transport's threads.
 */
public interface Transport extends AutoCloseable {

  /** The transport's id, e.g. {@code "tcp"}. */
  String id();

  /** What this transport can and cannot do. */
  Set<Capability> capabilities();

  /**
   * Dials {@code address}. Completes with an open connection, or exceptionally with an
   * {@link IOException} saying why not.
   *
   * @throws IllegalArgumentException if {@code address} is not a URI this transport understands
   */
  CompletableFuture<Connection> dial(URI address);

  /**
   * Starts listening on {@code address} (port 0 picks a free port).
   *
   * @throws IOException if the address cannot be bound
   * @throws IllegalArgumentException if {@code address} is not a URI this transport understands
   */
  Listener listen(URI address) throws IOException;

  /** Closes every listener and connection of this transport and frees its threads. Idempotent; blocks until done. */
  @Override
  void close();
}
