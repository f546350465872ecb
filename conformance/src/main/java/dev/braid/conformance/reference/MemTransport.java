package dev.braid.conformance.reference;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.AbstractListener;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One instance of the reference transport: owns a small thread pool that carries every frame of its
 * connections. Thread-safe.
 */
final class MemTransport implements Transport {
  private static final System.Logger LOG = System.getLogger(MemTransport.class.getName());
  private static final ConcurrentHashMap<String, MemListener> LISTENERS = new ConcurrentHashMap<>();
  private static final AtomicInteger PORTS = new AtomicInteger(40000);
  private static final AtomicInteger POOLS = new AtomicInteger();

  final MemTransportProvider provider;
  final TransportOptions options;
  final ExecutorService wire;
  /** Keep-alive pings and idle timeouts of this transport's connections. */
  final java.util.concurrent.ScheduledExecutorService timer;
  private final List<MemConnection> connections = new ArrayList<>(); // guarded by this
  private final List<MemListener> listeners = new ArrayList<>(); // guarded by this
  private boolean closed; // guarded by this

  MemTransport(MemTransportProvider provider, TransportOptions options) {
    this.provider = provider;
    this.options = options;
    int pool = POOLS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.wire = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "braid-mem-" + pool + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "braid-mem-" + pool + "-timer");
      t.setDaemon(true);
      return t;
    });
  }

  Breakage breakage() {
    return provider.breakage();
  }

  @Override
  public String id() {
    return provider.id();
  }

  @Override
  public Set<Capability> capabilities() {
    return provider.capabilities();
  }

  @Override
  public CompletableFuture<Connection> dial(URI address) {
    checkScheme(address);
    MemListener l = LISTENERS.get(key(address));
    if (l == null) {
      return CompletableFuture.failedFuture(new IOException("connection refused: nothing listens on " + address));
    }
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(new IOException("transport closed"));
      }
    }
    URI local = URI.create(provider.scheme() + "://dialer:" + PORTS.incrementAndGet());
    MemConnection mine = new MemConnection(this, true, local, address);
    MemConnection theirs = l.transport.accepted(l, address, local);
    if (theirs == null) {
      return CompletableFuture.failedFuture(new IOException("connection refused: listener closed at " + address));
    }
    mine.link(theirs);
    theirs.link(mine);
    synchronized (this) {
      connections.add(mine);
    }
    l.deliver(BrokenStreams.wrap(theirs, l.transport.breakage())); // each end carries its own transport's defect
    return CompletableFuture.completedFuture(BrokenStreams.wrap(mine, breakage()));
  }

  private MemConnection accepted(MemListener l, URI local, URI remote) {
    synchronized (this) {
      if (closed || l.closed()) {
        return null;
      }
      MemConnection c = new MemConnection(this, false, local, remote);
      connections.add(c);
      return c;
    }
  }

  @Override
  public Listener listen(URI address) throws IOException {
    checkScheme(address);
    int port = address.getPort() <= 0 ? PORTS.incrementAndGet() : address.getPort();
    URI bound = URI.create(provider.scheme() + "://" + (address.getHost() == null ? "test" : address.getHost()) + ":"
        + port);
    MemListener l = new MemListener(this, bound);
    synchronized (this) {
      if (closed) {
        throw new IOException("transport closed");
      }
      if (LISTENERS.putIfAbsent(key(bound), l) != null) {
        throw new IOException("address in use: " + bound);
      }
      listeners.add(l);
    }
    return l;
  }

  void connectionEnded(MemConnection c) {
    synchronized (this) {
      connections.remove(c);
    }
  }

  @Override
  public void close() {
    List<MemConnection> cs;
    List<MemListener> ls;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      cs = new ArrayList<>(connections);
      ls = new ArrayList<>(listeners);
    }
    ls.forEach(MemListener::close);
    cs.forEach(Connection::close);
    timer.shutdownNow();
    wire.shutdown();
    try {
      if (!wire.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.log(System.Logger.Level.WARNING, "mem transport threads did not stop within 10 s; interrupting");
        wire.shutdownNow();
      }
    } catch (InterruptedException e) {
      wire.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private void checkScheme(URI address) {
    if (!provider.scheme().equalsIgnoreCase(address.getScheme())) {
      throw new IllegalArgumentException("not a " + provider.scheme() + ":// address: " + address);
    }
  }

  private static String key(URI address) {
    return address.getScheme() + "://" + address.getHost() + ":" + address.getPort();
  }

  /** A bound mem:// address: accept and close come from {@link AbstractListener}. */
  static final class MemListener extends AbstractListener {
    final MemTransport transport;

    MemListener(MemTransport transport, URI address) {
      super(transport.id(), address, Integer.MAX_VALUE); // unbounded: a mem:// dial cannot be refused once taken
      this.transport = transport;
    }

    /** Hands {@code c} to a waiting accept or queues it; closes it if the listener is closed. */
    void deliver(Connection c) {
      offer(c);
    }

    boolean closed() {
      return isClosed();
    }

    @Override
    protected void closeNative() {
      LISTENERS.remove(key(address()), this);
    }
  }
}
