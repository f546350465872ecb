package dev.braid.transport.quic.internal;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Braid's keep-alive for one connection ({@link dev.braid.TransportOptions#keepAliveInterval()}; zero disables it):
 * whenever nothing has been received from the peer for that long, send a PING. The peer's ACK (and our PING, at the
 * peer) restarts both ends' idle timers, so an idle but healthy connection outlives a short idle timeout; a peer that
 * vanished answers nothing, and the idle timeout ends the connection with {@code ConnectionTimedOutException}. kwik's
 * own {@code keepAlive(seconds)} is not used: client only, whole seconds, and it stops after the given time.
 *
 * <p><b>Threads.</b> {@link #heard} on kwik's receiver thread, the ticks on the transport's timer, {@link #stop} on
 * whichever thread ends the connection.
 */
final class KeepAlive {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private final QuicConnection connection;
  private final long intervalNanos;
  private volatile long lastHeardNanos = System.nanoTime();
  private volatile ScheduledFuture<?> next;

  KeepAlive(QuicConnection connection) {
    this.connection = connection;
    this.intervalNanos = connection.options().keepAliveInterval().toNanos();
  }

  /** A packet from the peer was parsed. */
  void heard() {
    lastHeardNanos = System.nanoTime();
  }

  void start() {
    if (intervalNanos > 0) {
      schedule(intervalNanos);
    }
  }

  void stop() {
    ScheduledFuture<?> f = next;
    if (f != null) {
      f.cancel(false);
    }
  }

  private void schedule(long delayNanos) {
    if (!connection.isOpen()) {
      return;
    }
    try {
      next = connection.transport().scheduler().schedule(this::tick, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      LOG.log(System.Logger.Level.DEBUG, "transport closing; no keep-alive for {0}", connection);
    }
  }

  private void tick() {
    if (!connection.isOpen()) {
      return;
    }
    long silent = System.nanoTime() - lastHeardNanos;
    if (silent >= intervalNanos) {
      connection.ping();
      schedule(intervalNanos);
    } else {
      schedule(intervalNanos - silent);
    }
  }
}
