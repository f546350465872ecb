package dev.braid.transport.tcp.internal;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.Listener;
import io.netty.channel.Channel;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A bound TCP (or TLS) server socket that hands out {@link TcpConnection}s.
 *
 * <p><b>Thread safety.</b> Thread-safe; {@code // guarded by lock} marks the shared fields.
 */
final class TcpListener implements Listener {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  /** Connections ready but not yet taken by {@link #accept()}; more are closed. */
  static final int MAX_UNACCEPTED = 256;

  private final TcpTransport transport;
  private volatile URI address; // set once, when bound
  private final Object lock = new Object();
  private Channel serverChannel; // set once after bind
  private final ArrayDeque<TcpConnection> ready = new ArrayDeque<>(); // guarded by lock
  private final ArrayDeque<CompletableFuture<Connection>> waiting = new ArrayDeque<>(); // guarded by lock
  private boolean closed; // guarded by lock
  /** Connections accepted but still in their setup (TLS handshake); more are closed at once. */
  static final int MAX_IN_SETUP = 512;
  private final java.util.concurrent.atomic.AtomicInteger inSetup = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean loggedSetupLimit = new java.util.concurrent.atomic.AtomicBoolean();

  TcpListener(TcpTransport transport, URI requested) {
    this.transport = transport;
    this.address = requested;
  }

  void bound(Channel channel, URI actual) {
    this.serverChannel = channel;
    this.address = actual;
  }

  /** Counts a new inbound connection into its setup; false (and logged once) beyond {@link #MAX_IN_SETUP}. */
  boolean beginSetup() {
    if (inSetup.incrementAndGet() <= MAX_IN_SETUP) {
      return true;
    }
    inSetup.decrementAndGet();
    if (loggedSetupLimit.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "{0}: closing new connections: {1} are still in their setup "
          + "(TLS handshake); logged once", address, MAX_IN_SETUP);
    }
    return false;
  }

  void endSetup() {
    inSetup.decrementAndGet();
  }

  /** A new inbound connection finished its setup. */
  void offer(TcpConnection c) {
    CompletableFuture<Connection> w;
    boolean reject = false;
    synchronized (lock) {
      w = waiting.poll();
      if (w == null) {
        if (closed || ready.size() >= MAX_UNACCEPTED) {
          reject = true;
        } else {
          ready.add(c);
        }
      }
    }
    if (reject) {
      LOG.log(System.Logger.Level.WARNING, "{0}: closing inbound connection {1}: not accepted in time "
          + "({2} waiting)", address, c, MAX_UNACCEPTED);
      c.close();
    } else if (w != null) {
      w.complete(c);
    }
  }

  @Override
  public URI address() {
    return address;
  }

  @Override
  public CompletableFuture<Connection> accept() {
    CompletableFuture<Connection> f = new CompletableFuture<>();
    TcpConnection c;
    synchronized (lock) {
      c = ready.poll();
      if (c == null) {
        if (closed) {
          return CompletableFuture.failedFuture(new ConnectionClosedException("listener " + address + " is closed", false));
        }
        waiting.add(f);
        return f;
      }
    }
    f.complete(c);
    return f;
  }

  @Override
  public void close() {
    List<CompletableFuture<Connection>> w;
    List<TcpConnection> unaccepted;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      w = new ArrayList<>(waiting);
      waiting.clear();
      unaccepted = new ArrayList<>(ready);
      ready.clear();
    }
    if (serverChannel != null) {
      io.netty.channel.ChannelFuture closing = serverChannel.close();
      if (!serverChannel.eventLoop().inEventLoop()) {
        closing.awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
    }
    for (CompletableFuture<Connection> f : w) {
      f.completeExceptionally(new ConnectionClosedException("listener " + address + " is closed", false));
    }
    for (TcpConnection c : unaccepted) {
      c.close();
    }
    transport.listenerClosed(this);
  }

  @Override
  public String toString() {
    return "tcp listener " + address;
  }
}
