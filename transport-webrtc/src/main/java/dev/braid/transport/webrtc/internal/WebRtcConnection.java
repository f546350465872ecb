package dev.braid.transport.webrtc.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.MuxedStream;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractConnection;
import dev.braid.spi.SerialExecutor;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCIceConnectionState;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCStatsReport;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Braid connection over one WebRTC peer connection ({@link Handshake}): one ordered, reliable data channel per
 * stream, plus one {@link ControlChannel} whose closure tells each side that the other closed the connection, and
 * which carries the keep-alive ({@link Liveness}).
 *
 * <p>Each side creates the data channels of the streams it opens, negotiated in-band
 * ({@code negotiated: false}, empty label), so libwebrtc picks SCTP stream ids by DTLS role (one side
 * even, the other odd, RFC 8832) and the two sides never collide. Braid stream ids are a per-connection
 * counter, independent of SCTP ids (which libwebrtc reuses after a channel closed).
 *
 * <p><b>Closing.</b> {@link #close()} waits (bounded, {@value #GRACEFUL_CLOSE_BOUND_MILLIS} ms at most) until every
 * channel handed its buffered bytes to SCTP, closes the control channel and waits for its closure: SCTP resets a
 * stream only after every earlier message of the association arrived. Both waits are driven by events: the drain by
 * the transport's {@link BufferedAmountPoller} (webrtc-java 0.14.0 reports no buffered-amount change), the closure by
 * the control channel's state change. The control channel's CLOSING state already ends the wait, as it does when the
 * peer closes: the teardown starts then. Every channel and the peer connection are then closed and disposed, exactly
 * once. The peer sees the control channel close and ends its side with a {@link dev.braid.ConnectionClosedException}.
 *
 * <p><b>Liveness.</b> See {@link Liveness}. A peer connection that FAILED after the connection was established, with
 * ICE DISCONNECTED or FAILED, is ICE consent expiry: {@link ConnectionTimedOutException}.
 *
 * <p><b>Thread safety.</b> Thread-safe. Calls into the peer connection (creating channels, SDP, closing)
 * run on the transport's one signaling executor; libwebrtc's callbacks only copy their arguments and
 * hand them to this connection's ordered executor. No lock of this class is held across a native call
 * that a callback could wait for.
 */
public final class WebRtcConnection extends AbstractConnection {
  private static final System.Logger LOG = System.getLogger(WebRtcConnection.class.getName());
  /** At most this many data channels of ours exist at once (see {@link DataChannels}). More opens are refused. */
  public static final int MAX_LOCAL_CHANNELS = 511;
  /** How long the channel of a stream we reset stays open for the peer to close it (see DataChannels#closeAfterReset). */
  static final long RESET_CLOSE_GRACE_MILLIS = 1000;
  /** How long messages may still arrive on a channel that closed under a live stream (see DataChannels#closedEarly). */
  static final long CLOSED_EARLY_GRACE_MILLIS = 250;
  /** The bound of a graceful close's waits (drain, control channel closure), or connectTimeout if shorter. */
  static final long GRACEFUL_CLOSE_BOUND_MILLIS = 3000;

  private final WebRtcTransport transport;
  private final SerialExecutor serial;
  private final Handshake handshake = new Handshake(this);
  private final ControlChannel control = new ControlChannel(this);
  private final Liveness liveness;
  private final DataChannels channels;
  private final CompletableFuture<Void> established = new CompletableFuture<>();
  private final AtomicBoolean tearingDown = new AtomicBoolean();
  private final CompletableFuture<Void> teardownStarted = new CompletableFuture<>();
  private volatile long peerWindow = -1; // the peer's per-stream receive window; -1: no Braid flow control

  WebRtcConnection(WebRtcTransport transport, boolean dialer, URI localAddress, URI remoteAddress) {
    super(WebRtcTransport.ID, dialer, localAddress, remoteAddress, transport.capabilities(), transport.options());
    this.transport = transport;
    this.serial = new SerialExecutor(transport.ioPool());
    this.liveness = new Liveness(this, transport.options(), transport.scheduler());
    this.channels = new DataChannels(this, transport);
  }

  // ---------------------------------------------------------------- for the transport, the listener and tests

  /** Dialer: creates the peer connection and the control channel, and returns the complete SDP offer. */
  CompletableFuture<String> createOffer() {
    return handshake.createOffer();
  }

  /** Dialer: applies the listener's SDP answer. */
  CompletableFuture<Void> applyAnswer(String sdp) {
    return handshake.applyAnswer(sdp);
  }

  /** Listener: applies the dialer's offer and returns the complete SDP answer. */
  CompletableFuture<String> acceptOffer(String sdp) {
    return handshake.acceptOffer(sdp);
  }

  /** Completes once the control channel is open on this side. */
  CompletableFuture<Void> established() {
    return established;
  }

  /** The peer connection's statistics (the selected ICE candidate pair): for diagnostics and the tests' path cut. */
  public CompletableFuture<RTCStatsReport> stats() {
    return handshake.stats();
  }

  /** Whether the peer announced Braid's keep-alive (it is pinged, and expected to answer). */
  public boolean peerSpeaksKeepAlive() {
    return liveness.peerSpeaksKeepAlive();
  }

  /** Keep-alive pings sent so far. */
  public long pingsSent() {
    return liveness.pingsSent();
  }

  /** Keep-alive answers (PONG) received so far. */
  public long pongsReceived() {
    return liveness.pongsReceived();
  }

  // ---------------------------------------------------------------- for the parts of this connection

  WebRtcTransport transport() {
    return transport;
  }

  SerialExecutor serial() {
    return serial;
  }

  Handshake handshake() {
    return handshake;
  }

  ControlChannel control() {
    return control;
  }

  DataChannels channels() {
    return channels;
  }

  Liveness liveness() {
    return liveness;
  }

  ConnectionFailedException endCauseOrNull() {
    return endCause();
  }

  boolean isTearingDown() {
    return tearingDown.get();
  }

  /** Something arrived from the peer (any message on any channel). Called on libwebrtc's threads: no lock. */
  void markReceived() {
    liveness.received();
  }

  /** The peer's per-stream receive window, or -1 when it does not speak Braid's flow control. */
  long peerWindow() {
    return peerWindow;
  }

  /** What the peer's SDP announced: its per-stream receive window (or -1) and whether it speaks the keep-alive. */
  void peerAnnounced(long window, boolean keepAlive) {
    peerWindow = window;
    liveness.peerAnnounced(keepAlive);
  }

  /** Runs {@code action} on the signaling executor; a failure completes {@code result} exceptionally. */
  void signal(CompletableFuture<?> result, Runnable action) {
    transport.onSignaling(() -> {
      if (tearingDown.get()) {
        ConnectionFailedException cause = endCause();
        result.completeExceptionally(cause != null ? cause
            : new ConnectionFailedException("webrtc: the connection was closed during the handshake", null));
        return;
      }
      try {
        action.run();
      } catch (RuntimeException | Error e) {
        if (e instanceof VirtualMachineError vme) {
          throw vme;
        }
        result.completeExceptionally(e);
      }
    }, result);
  }

  /** Runs {@code task} on the transport's I/O pool, or here if the pool is shut down (the transport is closing). */
  void runOnIo(Runnable task) {
    try {
      transport.ioPool().execute(task);
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: the transport is closing; running {1} here", this, task);
      task.run();
    }
  }

  /** Serial executor: the control channel opened. */
  void controlOpened() {
    if (established.complete(null)) {
      liveness.start();
    }
  }

  /** Serial executor: the control channel is closing or closed. */
  void controlClosing() {
    if (!established.isDone()) {
      established.completeExceptionally(new ConnectionFailedException("webrtc: the peer closed the connection during "
          + "the handshake", null));
      teardown(null, true, false);
    } else if (!tearingDown.get()) {
      // The peer closed the connection, or our own graceful close got this far (then the connection is no longer
      // open, and its end cause is set already: "remote" only names who closed in the log).
      boolean byPeer = isOpen();
      LOG.log(System.Logger.Level.DEBUG, "{0}: the control channel is closing ({1})", this,
          byPeer ? "closed by the peer" : "our graceful close");
      teardown(null, byPeer, !byPeer);
    }
  }

  /** Serial executor: the peer connection's state changed. */
  void onPeerConnectionState(RTCPeerConnectionState state) {
    if (state == RTCPeerConnectionState.FAILED && !tearingDown.get()) {
      RTCIceConnectionState ice = liveness.iceState();
      ConnectionFailedException cause;
      if (isEstablished() && (ice == RTCIceConnectionState.FAILED || ice == RTCIceConnectionState.DISCONNECTED)) {
        // ICE consent expired: the peer stopped answering without a word (libwebrtc gives up after about 15 s).
        cause = new ConnectionTimedOutException("webrtc: the peer connection failed: ICE consent expired (ICE " + ice
            + "; the peer is unreachable or gone)", null);
      } else {
        cause = new ConnectionFailedException("webrtc: the peer connection failed (ICE " + ice + "; ICE or DTLS: "
            + "the peer is unreachable or gone)", null);
      }
      established.completeExceptionally(cause);
      teardown(cause, false, false);
    } else {
      liveness.peerConnectionState(state);
    }
  }

  private boolean isEstablished() {
    return established.isDone() && !established.isCompletedExceptionally();
  }

  // ---------------------------------------------------------------- streams

  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    return channels.open(listener);
  }

  /** Serial executor: the peer opened a data channel. */
  void onRemoteChannel(RTCDataChannel ch) {
    channels.onRemoteChannel(ch);
  }

  /** Registers {@code s} in the connection's streams; false when it must be refused (limit, or ending). */
  boolean register(WebRtcMuxedStream s) {
    return addStream(s);
  }

  /** Whether a new stream would be refused now (limit, or ending). */
  boolean limitReached() {
    return streamLimitReached();
  }

  /** Hands an inbound stream that opened to the application; false when it must be refused (backlog full, ending). */
  boolean deliver(WebRtcMuxedStream s) {
    return deliverInbound(s);
  }

  // ---------------------------------------------------------------- closing

  @Override
  protected void doClose() {
    long boundMillis = Math.min(GRACEFUL_CLOSE_BOUND_MILLIS, options().connectTimeout().toMillis());
    CompletableFuture<Void> bound = transport.timeout(boundMillis); // fails with a TimeoutException when it passes
    drained(bound)
        .thenCompose(v -> closeControl(bound))
        .whenComplete((v, e) -> {
          if (e != null) {
            LOG.log(System.Logger.Level.WARNING, "webrtc: graceful close of " + this + " failed; tearing down", e);
          } else if (bound.isCompletedExceptionally() && !tearingDown.get()) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: not drained and closed within {1} ms; tearing down", this,
                boundMillis);
          }
          bound.complete(null); // cancels its timer
          runOnIo(() -> teardown(null, false, true));
        });
  }

  @Override
  protected void doAbort(Throwable cause) {
    teardown(cause, false, false);
  }

  /** Completes once every channel handed its buffered bytes to SCTP, the teardown started, or {@code bound} passed. */
  private CompletableFuture<Void> drained(CompletableFuture<Void> bound) {
    CompletableFuture<Void> drained = new CompletableFuture<>();
    bound.whenComplete((v, e) -> drained.complete(null));
    teardownStarted.whenComplete((v, e) -> drained.complete(null));
    transport.poller().register(() -> {
      if (!drained.isDone() && channels.unsentBytes() == 0) {
        drained.complete(null);
      }
      return drained.isDone();
    });
    return drained;
  }

  /**
   * Closes the control channel (once the connection is established); completes once it closed (or is closing: see
   * the class comment), the teardown started, or {@code bound} passed.
   */
  private CompletableFuture<Void> closeControl(CompletableFuture<Void> bound) {
    if (!isEstablished()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> closed = new CompletableFuture<>();
    bound.whenComplete((v, e) -> closed.complete(null));
    teardownStarted.whenComplete((v, e) -> closed.complete(null));
    control.closed().whenComplete((v, e) -> closed.complete(null));
    transport.onSignaling(control::close, null);
    return closed;
  }

  /** Closes and disposes every native object exactly once, then ends the connection. */
  void teardown(Throwable cause, boolean remote, boolean graceful) {
    if (!tearingDown.compareAndSet(false, true)) {
      return;
    }
    teardownStarted.complete(null);
    liveness.stop();
    LOG.log(System.Logger.Level.DEBUG, "{0}: tearing down ({1})", this,
        cause != null ? cause : graceful ? "closed" : remote ? "closed by the peer" : "aborted");
    established.completeExceptionally(cause != null ? cause
        : new ConnectionFailedException("webrtc: the connection ended during the handshake", null));
    CompletableFuture<Void> done = new CompletableFuture<>();
    transport.onSignaling(() -> {
      try {
        channels.disposeAll();
        control.dispose();
        handshake.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc: closing the peer connection of " + this + " failed", e);
      } finally {
        done.complete(null);
      }
    }, done);
    done.whenComplete((ok, err) -> {
      transport.connectionEnded(this);
      terminated(cause, remote);
    });
  }
}
