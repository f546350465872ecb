package dev.braid.transport.webrtc.internal;

import dev.braid.ConnectionTimedOutException;
import dev.braid.TransportOptions;
import dev.onvoid.webrtc.RTCIceConnectionState;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's liveness: keep-alive and idle timeout. Every message received on any channel (and a channel the
 * peer opens) counts as a sign of life. With a Braid peer (one that announced {@code a=x-braid-keepalive} in its SDP)
 * the connection sends a one-byte PING on the control channel when it has received nothing for
 * {@code keepAliveInterval}; the peer answers with a PONG. When nothing at all arrived for {@code idleTimeout}, the
 * connection ends with {@link ConnectionTimedOutException}. A peer that does not speak the keep-alive (a browser,
 * libp2p) is never pinged and never expected to ping: its connection relies on ICE, and ends with
 * {@link ConnectionTimedOutException} when the peer connection stays DISCONNECTED (with nothing received) for
 * {@code idleTimeout}, or when ICE consent expires (FAILED, 15 s after the peer went silent in libwebrtc here; not
 * configurable through webrtc-java; see {@link WebRtcConnection}).
 *
 * <p>One timer per connection on the transport's scheduler checks every {@code min(keepAliveInterval / 2,
 * idleTimeout / 4)}, at least {@value #MIN_PERIOD_MILLIS} ms. Pings and pongs are sent from the scheduler, never from a
 * libwebrtc callback.
 *
 * <p><b>Thread safety.</b> Thread-safe; {@link #received()} and the ICE updates come on libwebrtc's threads and take
 * no lock.
 */
final class Liveness {
  private static final System.Logger LOG = System.getLogger(Liveness.class.getName());
  private static final long MIN_PERIOD_MILLIS = 10;

  private final WebRtcConnection connection;
  private final TransportOptions options;
  private final ScheduledExecutorService scheduler;
  private final AtomicLong pingsSent = new AtomicLong();
  private final AtomicLong pongsReceived = new AtomicLong();

  /** Whether the peer announced Braid's keep-alive in its SDP: we ping it and expect it to answer (and ping us). */
  private volatile boolean peerKeepAlive;
  /** {@link System#nanoTime()} of the last message received from the peer on any channel. */
  private volatile long lastReceived = System.nanoTime();
  /** {@link System#nanoTime()} when the peer connection went DISCONNECTED, or 0 while it is not. */
  private volatile long disconnectedSince;
  private volatile RTCIceConnectionState iceState = RTCIceConnectionState.NEW;
  private volatile ScheduledFuture<?> timer;

  Liveness(WebRtcConnection connection, TransportOptions options, ScheduledExecutorService scheduler) {
    this.connection = connection;
    this.options = options;
    this.scheduler = scheduler;
  }

  /** What the peer's SDP said: whether it speaks Braid's keep-alive. */
  void peerAnnounced(boolean keepAlive) {
    peerKeepAlive = keepAlive;
  }

  boolean peerSpeaksKeepAlive() {
    return peerKeepAlive;
  }

  long pingsSent() {
    return pingsSent.get();
  }

  long pongsReceived() {
    return pongsReceived.get();
  }

  /** Something arrived from the peer (any message on any channel). Called on libwebrtc's threads: no lock. */
  void received() {
    lastReceived = System.nanoTime();
  }

  void iceStateChanged(RTCIceConnectionState state) {
    iceState = state;
  }

  RTCIceConnectionState iceState() {
    return iceState;
  }

  /** The peer connection's state (other than FAILED, which ends the connection): DISCONNECTED starts the clock. */
  void peerConnectionState(RTCPeerConnectionState state) {
    if (state == RTCPeerConnectionState.DISCONNECTED) {
      if (disconnectedSince == 0) {
        disconnectedSince = System.nanoTime() | 1; // never 0
      }
      LOG.log(System.Logger.Level.DEBUG, "{0}: peer connection disconnected; waiting for ICE to recover or fail",
          connection);
    } else if (state == RTCPeerConnectionState.CONNECTED) {
      disconnectedSince = 0;
    }
  }

  /** The peer pinged: answer at once (from the scheduler, never from libwebrtc's callback thread). */
  void pinged() {
    try {
      scheduler.execute(() -> connection.control().send(ControlChannel.PONG));
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: no PONG; the transport is closing", connection);
    }
  }

  void ponged() {
    pongsReceived.incrementAndGet();
  }

  /** Starts the timer once the control channel is open. */
  void start() {
    long idle = options.idleTimeout().toNanos();
    long keepAlive = options.keepAliveInterval().toNanos();
    long period = idle / 4;
    if (peerKeepAlive && keepAlive > 0) {
      period = Math.min(period, keepAlive / 2);
    }
    period = Math.max(period, TimeUnit.MILLISECONDS.toNanos(MIN_PERIOD_MILLIS));
    lastReceived = System.nanoTime();
    try {
      timer = scheduler.scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: no liveness timer; the transport is closing", connection);
      return;
    }
    if (connection.isTearingDown()) {
      stop();
    }
  }

  void stop() {
    ScheduledFuture<?> f = timer;
    if (f != null) {
      f.cancel(false);
    }
  }

  /** On the transport's scheduler: pings a silent Braid peer, and ends a connection silent for idleTimeout. */
  private void check() {
    if (connection.isTearingDown()) {
      stop();
      return;
    }
    long now = System.nanoTime();
    long silent = now - lastReceived;
    long idle = options.idleTimeout().toNanos();
    if (peerKeepAlive) {
      if (silent >= idle) {
        timedOut("idle timeout: nothing received for " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms (idleTimeout "
            + options.idleTimeout().toMillis() + " ms" + (options.keepAliveInterval().isZero() ? ""
            : "; keep-alive pings every " + options.keepAliveInterval().toMillis() + " ms unanswered") + ")");
        return;
      }
      long keepAlive = options.keepAliveInterval().toNanos();
      if (keepAlive > 0 && silent >= keepAlive && connection.control().send(ControlChannel.PING)) {
        pingsSent.incrementAndGet();
      }
    } else {
      // A peer without Braid's keep-alive: only ICE can tell that it is gone.
      long since = disconnectedSince;
      if (since != 0 && now - since >= idle && silent >= idle) {
        timedOut("the peer connection has been DISCONNECTED (ICE " + iceState + ") for "
            + TimeUnit.NANOSECONDS.toMillis(now - since) + " ms with nothing received (idleTimeout "
            + options.idleTimeout().toMillis() + " ms)");
      }
    }
  }

  private void timedOut(String why) {
    stop();
    ConnectionTimedOutException cause = new ConnectionTimedOutException("webrtc: " + why, null);
    LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", connection, cause.getMessage());
    connection.runOnIo(() -> connection.abort(cause));
  }
}
