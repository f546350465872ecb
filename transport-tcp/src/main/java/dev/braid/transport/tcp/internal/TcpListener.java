package dev.braid.transport.tcp.internal;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.Listener;
import dev.braid.spi.AcceptQueue;
import io.netty.channel.Channel;
import java.net.URI;
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
  private volatile Channel serverChannel; // set once after bind
  private final AcceptQueue<Connection> accepts = new AcceptQueue<>(MAX_UNACCEPTED, Connection::close);
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

  /** A new inbound connection finished its setup: handed to a waiting accept, queued, or closed. */
  void offer(TcpConnection c) {
    if (!accepts.offer(c)) {
      if (accepts.isClosed()) {
        LOG.log(System.Logger.Level.DEBUG, "{0}: closed inbound connection {1}: the listener is closed", address, c);
      } else {
        LOG.log(System.Logger.Level.WARNING, "{0}: closed inbound connection {1}: not accepted in time "
            + "({2} waiting)", address, c, MAX_UNACCEPTED);
      }
    }
  }

  @Override
  public URI address() {
    return address;
  }

  @Override
  public CompletableFuture<Connection> accept() {
    return accepts.accept();
  }

  @Override
  public void close() {
    // accept() fails from now on; waiting accepts fail, and unaccepted connections close, once the port is free.
    if (accepts.close(() -> new ConnectionClosedException("listener " + address + " is closed", false),
        this::closeServerChannel)) {
      transport.listenerClosed(this);
    }
  }

  private void closeServerChannel() {
    Channel channel = serverChannel;
    if (channel != null) {
      io.netty.channel.ChannelFuture closing = channel.close();
      if (!channel.eventLoop().inEventLoop()) {
        closing.awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
    }
  }

  @Override
  public String toString() {
    return "tcp listener " + address;
  }
}
