package ${package};

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One instance of the {@code ${scheme}} transport: it owns the threads, sockets and native resources of every
 * connection and listener it makes, until {@link #close()}. Thread-safe; {@link #dial} and {@link #listen} return
 * without waiting for the network.
 */
final class ${classPrefix}Transport implements Transport {
  private final ${classPrefix}TransportProvider provider;
  private final TransportOptions options;
  private final List<Listener> listeners = new ArrayList<>(); // guarded by this
  private final List<Connection> connections = new ArrayList<>(); // guarded by this
  private boolean closed; // guarded by this

  ${classPrefix}Transport(${classPrefix}TransportProvider provider, TransportOptions options) {
    this.provider = provider;
    this.options = options;
  }

  @Override
  public String id() {
    return provider.id();
  }

  @Override
  public Set<Capability> capabilities() {
    return provider.capabilities();
  }

  /** The options every connection of this transport runs with (limits, windows, keep-alive, idle timeout). */
  TransportOptions options() {
    return options;
  }

  /**
   * TODO Dials {@code address}: connect, run the protocol's handshake, and complete the future with
   * {@code new ${classPrefix}Connection(this, true, local, remote)} (registered with {@code track}); fail it with an
   * {@link IOException} saying why not. Start the connection's keep-alive and idle timer here: a peer that vanishes
   * without a word must end the connection with {@code ConnectionTimedOutException} (N2, N5, F2). Every rule of the
   * kit starts with a dial.
   */
  @Override
  public CompletableFuture<Connection> dial(URI address) {
    checkScheme(address);
    throw new UnsupportedOperationException("${classPrefix}Transport.dial(URI) is not implemented: connect to "
        + address + ", run the handshake and complete the future with a ${classPrefix}Connection (every rule dials; "
        + "N2, N5, F2 need its keep-alive and idle timeout)");
  }

  /**
   * TODO Binds {@code address} (port 0: a free port) and returns a {@link ${classPrefix}Listener} (registered with
   * {@code track}) told the real address, the one a dialer uses, with {@code boundTo(actual)}; each inbound
   * connection, once set up, is a {@code new ${classPrefix}Connection(this, false, local, remote)} handed to the
   * listener's {@code inbound}. Throw an {@link IOException} when the address cannot be bound. Every rule of the kit starts here: the fixture listens
   * on {@link ${classPrefix}TransportProvider#testListenAddress()} first.
   */
  @Override
  public Listener listen(URI address) throws IOException {
    checkScheme(address);
    throw new UnsupportedOperationException("${classPrefix}Transport.listen(URI) is not implemented: bind " + address
        + ", return a ${classPrefix}Listener and offer() each inbound ${classPrefix}Connection to it (every rule of "
        + "the kit listens first: SPEC.md O1 onwards)");
  }

  /** Remembers what {@link #close()} must close; returns false (and the caller closes it) once the transport closed. */
  boolean track(Connection c) {
    synchronized (this) {
      if (!closed) {
        connections.add(c);
        return true;
      }
    }
    return false;
  }

  /** Remembers a listener for {@link #close()}; returns false (and the caller closes it) once the transport closed. */
  boolean track(Listener l) {
    synchronized (this) {
      if (!closed) {
        listeners.add(l);
        return true;
      }
    }
    return false;
  }

  /**
   * Closes every listener and connection, then stops every thread the transport started (event loops, timers,
   * executors) and waits for them: the kit checks after each rule that no thread the transport started is left
   * (W2), and that every connection ended (N1). Idempotent; blocks until done.
   */
  @Override
  public void close() {
    List<Listener> ls;
    List<Connection> cs;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      ls = new ArrayList<>(listeners);
      cs = new ArrayList<>(connections);
    }
    ls.forEach(Listener::close);
    cs.forEach(Connection::close);
    // TODO stop and await this transport's threads (W2).
  }

  private static void checkScheme(URI address) {
    if (!${classPrefix}TransportProvider.ID.equalsIgnoreCase(address.getScheme())) {
      throw new IllegalArgumentException("not a ${scheme}:// address: " + address);
    }
  }
}
