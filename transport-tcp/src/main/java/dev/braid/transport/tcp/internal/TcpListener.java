package dev.braid.transport.tcp.internal;

import dev.braid.spi.AbstractListener;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bound TCP (or TLS) server socket that hands out {@link TcpConnection}s. The address, the accept hand-over
 * and {@code close()} are {@link AbstractListener}'s; what is TCP's own is the server channel and the cap on
 * connections still in their setup (TLS handshake), which keeps a flood of silent sockets from holding memory.
 *
 * <p><b>Thread safety.</b> Thread-safe. The setup callbacks come from the connections' event loops.
 */
final class TcpListener extends AbstractListener {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  /** Connections ready but not yet taken by {@link #accept()}; more are closed. */
  static final int MAX_UNACCEPTED = 256;
  /** Connections accepted but still in their setup (TLS handshake); more are closed at once. */
  static final int MAX_IN_SETUP = 512;

  private final TcpTransport transport;
  private volatile Channel serverChannel; // set once, when bound
  private final AtomicInteger inSetup = new AtomicInteger();
  private final AtomicBoolean loggedSetupLimit = new AtomicBoolean();

  TcpListener(TcpTransport transport, URI requested) {
    super("tcp", requested, MAX_UNACCEPTED);
    this.transport = transport;
  }

  /** The server channel is bound; {@code actual} is the listener's address from now on. */
  void bound(Channel channel, URI actual) {
    this.serverChannel = channel;
    bound(actual);
  }

  /** Counts a new inbound connection into its setup; false (and logged once) beyond {@link #MAX_IN_SETUP}. */
  boolean beginSetup() {
    if (inSetup.incrementAndGet() <= MAX_IN_SETUP) {
      return true;
    }
    inSetup.decrementAndGet();
    if (loggedSetupLimit.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "{0}: closing new connections: {1} are still in their setup "
          + "(TLS handshake); logged once", this, MAX_IN_SETUP);
    }
    return false;
  }

  /** An inbound connection finished its setup: it leaves the count and is offered to {@code accept()}. */
  void setupDone(TcpConnection c) {
    inSetup.decrementAndGet();
    offer(c);
  }

  /** An inbound connection failed during its setup: it leaves the count. */
  void setupFailed(Throwable cause) {
    inSetup.decrementAndGet();
    LOG.log(System.Logger.Level.DEBUG, "{0}: inbound connection failed during setup: {1}", this, cause.getMessage());
  }

  /** Closes the server channel (waiting for that, briefly, off its event loop), and leaves the transport. */
  @Override
  protected void closeNative() {
    try {
      Channel channel = serverChannel;
      if (channel != null) {
        ChannelFuture closing = channel.close();
        if (!channel.eventLoop().inEventLoop() && !closing.awaitUninterruptibly(5, TimeUnit.SECONDS)) {
          LOG.log(System.Logger.Level.WARNING, "{0}: the server channel did not close within 5 s", this);
        }
      }
    } finally {
      transport.listenerClosed(this);
    }
  }
}
