package dev.braid.spi;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.Listener;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What every {@link Listener} shares, implemented once: the address (known once bound), the hand-over of
 * inbound connections to {@link #accept()} through an {@link AcceptQueue} (at most {@code maxUnaccepted}
 * waiting; more are closed and logged), and an idempotent {@link #close()}. A transport implements
 * {@link #closeNative()} (free the port; called once, before waiting accepts fail and queued connections
 * close) and calls {@link #bound(URI)} and {@link #offer(Connection)}.
 *
 * <p><b>Threads.</b> Thread-safe. {@link #offer} may be called from any thread (usually the transport's I/O
 * thread); it completes a waiting accept, whose continuations run on Braid event threads ({@link BraidFuture}).
 * {@link #closeNative()} runs on the thread that called {@link #close()} and must not wait for a thread that
 * may be calling {@link #offer}.
 */
public abstract class AbstractListener implements Listener {
  private static final System.Logger LOG = System.getLogger("dev.braid.listener");

  private final String transportId;
  private final AcceptQueue<Connection> accepts;
  private final int maxUnaccepted;
  private volatile URI address;

  /**
   * @param transportId the transport's id, for logs
   * @param requested the address asked for (replaced by {@link #bound(URI)})
   * @param maxUnaccepted how many connections may wait for {@code accept()}
   */
  protected AbstractListener(String transportId, URI requested, int maxUnaccepted) {
    this.transportId = Objects.requireNonNull(transportId, "transportId");
    this.address = Objects.requireNonNull(requested, "requested");
    this.maxUnaccepted = maxUnaccepted;
    this.accepts = new AcceptQueue<>(maxUnaccepted, Connection::close);
  }

  /** Frees the native listening resource (the port). Called once, from {@link #close()}. */
  protected abstract void closeNative();

  /** The listener is bound: {@code actual} (with the real port, and what a dialer needs) is its address now. */
  protected final void bound(URI actual) {
    this.address = Objects.requireNonNull(actual, "actual");
  }

  /**
   * A new inbound connection finished its setup: handed to a waiting accept or queued; closed (and logged)
   * when the listener is closed or {@code maxUnaccepted} wait already. Returns whether it was taken.
   */
  protected final boolean offer(Connection c) {
    if (accepts.offer(c)) {
      return true;
    }
    if (accepts.isClosed()) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: closed inbound connection {1}: the listener is closed", this, c);
    } else {
      LOG.log(System.Logger.Level.WARNING, "{0}: closed inbound connection {1}: not accepted in time ({2} waiting)",
          this, c, maxUnaccepted);
    }
    return false;
  }

  /**
   * Takes back a connection that was offered but not accepted yet (it ended on its own, say), so that
   * {@link #accept()} never hands out a connection that is already over. Returns whether it was still queued.
   */
  protected final boolean withdraw(Connection c) {
    return accepts.remove(c);
  }

  /** How many inbound connections wait for {@link #accept()} now (for diagnostics and tests). */
  protected final int unaccepted() {
    return accepts.queued();
  }

  /** Whether {@link #close()} was called. */
  protected final boolean isClosed() {
    return accepts.isClosed();
  }

  @Override
  public final URI address() {
    return address;
  }

  @Override
  public final CompletableFuture<Connection> accept() {
    return accepts.accept();
  }

  /** Stops accepting: the port is freed, waiting accepts fail, connections not yet accepted close. Idempotent. */
  @Override
  public final void close() {
    if (accepts.close(() -> new ConnectionClosedException("listener " + address + " is closed", false),
        this::closeNativeLogged)) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: closed", this);
    }
  }

  private void closeNativeLogged() {
    try {
      closeNative();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, this + ": freeing the listening resource failed", e);
    }
  }

  @Override
  public String toString() {
    return transportId + " listener " + address;
  }
}
