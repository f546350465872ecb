package dev.braid.transport.quic.internal;

import dev.braid.Capability;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import dev.braid.spi.AbstractConnection;
import dev.braid.spi.SerialExecutor;
import java.io.IOException;
import java.net.URI;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import tech.kwik.core.ConnectionTerminatedEvent;
import tech.kwik.core.QuicStream;
import tech.kwik.core.packet.QuicPacket;

/**
 * A Braid connection over one kwik QUIC connection. Every {@link MuxedStream} is one bidirectional QUIC
 * stream ({@link QuicMuxedStream}); closing the connection sends CONNECTION_CLOSE.
 *
 * <p>Events reach it three ways, none of which blocks a kwik thread: parsed packets and sent packets through
 * {@link QuicFrameTap} into the {@link FrameRouter}; new peer streams through kwik's peer-initiated-stream callback,
 * handed off at once to a per-connection serial queue; the end of the connection through kwik's
 * {@code ConnectionListener} (or kwik's abort log, {@link Kwik0108#isAbortLog}), handed off to the transport's I/O pool.
 *
 * <p><b>Thread safety.</b> Thread-safe. No lock of this class is held while calling kwik or Braid's core.
 */
public final class QuicConnection extends AbstractConnection {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  /** Application error code in CONNECTION_CLOSE when we abort. */
  static final long ABORT_CODE = 0x01;

  private final QuicTransport transport;
  private final tech.kwik.core.QuicConnection kwik;
  private final Kwik0108.AckWatchdog acks;
  private final FrameRouter router;
  private final KeepAlive keepAlive;
  private final SerialExecutor inbound;
  /** Opens run one at a time: at most one thread per connection waits in kwik's createStream for stream credit. */
  private final SerialExecutor opener;
  private final List<Runnable> terminationHooks = new CopyOnWriteArrayList<>();
  /** Opens still waiting (queued, or in kwik's createStream for credit): the connection's end fails them at once. */
  private final Set<Runnable> pendingOpens = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> kwikEnded = new CompletableFuture<>();
  private final AtomicBoolean endHandled = new AtomicBoolean();

  QuicConnection(QuicTransport transport, tech.kwik.core.QuicConnection kwik, boolean dialer, URI local, URI remote,
      Set<Capability> capabilities, TransportOptions options) {
    super(QuicTransport.ID, dialer, local, remote, capabilities, options);
    this.transport = transport;
    this.kwik = kwik;
    this.acks = new Kwik0108.AckWatchdog(kwik, transport.scheduler(), this::isOpen);
    this.router = new FrameRouter(dialer, QuicTransport.peerStreamCredit(options), acks);
    this.keepAlive = new KeepAlive(this);
    this.inbound = new SerialExecutor(transport.io());
    this.opener = new SerialExecutor(transport.blocking());
  }

  QuicTransport transport() {
    return transport;
  }

  tech.kwik.core.QuicConnection kwik() {
    return kwik;
  }

  /** Runs when the connection has ended (kwik reported it, or we closed or aborted it). */
  void onTerminatedRun(Runnable hook) {
    terminationHooks.add(hook);
    if (endHandled.get()) {
      hook.run();
    }
  }

  /** Completes when kwik reported the end of the connection. */
  CompletableFuture<Void> kwikEnded() {
    return kwikEnded;
  }

  void startKeepAlive() {
    keepAlive.start();
  }

  /** Sends a PING (which also wakes kwik's sender) while the connection is open. */
  void ping() {
    if (isOpen()) {
      Kwik0108.ping(kwik);
    }
  }

  /** How often the ACK watchdog had to send a PING (diagnostics). */
  int pings() {
    return acks.pings();
  }

  /** Why the connection ended, or null while it is open. */
  ConnectionFailedException failure() {
    return endCause();
  }

  /** Streams the tap still routes frames to (tests). */
  int liveSignals() {
    return router.size();
  }

  /** Completes once the tap routes frames to no stream (tests). */
  CompletableFuture<Void> tapEmpty() {
    return router.whenEmpty();
  }

  void forget(StreamSignals sig) {
    router.forget(sig);
  }

  // ---------------------------------------------------------------- kwik → Braid

  /** kwik parsed {@code packet} and is about to process it (on its receiver thread). */
  void onPacketReceived(QuicPacket packet) {
    keepAlive.heard();
    router.received(packet);
  }

  /** kwik sent {@code packet} (on its sender thread). */
  void onPacketSent(QuicPacket packet) {
    router.sent(packet);
  }

  /**
   * Accepts the peer streams kwik created before the handshake ended ({@link Kwik0108#streamsCreatedBeforeHandshake});
   * on the receiver thread, right after the new-stream callback is installed. {@code early}: what the tap saw of them.
   */
  void recoverEarlyStreams(Map<Integer, StreamSignals> early) {
    try {
      for (QuicStream s : Kwik0108.streamsCreatedBeforeHandshake(kwik, router.firstPeerStreamId(),
          Collections.max(early.keySet()))) {
        LOG.log(System.Logger.Level.DEBUG, "{0}: accepting stream {1} that kwik opened before the handshake ended", this,
            s.getStreamId());
        router.adoptEarly(s.getStreamId(), early.get(s.getStreamId()));
        onPeerStream(s);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "{0}: kwik opened streams {1} before the handshake ended and they cannot be"
          + " recovered ({2}); the peer will see them unanswered", this, early.keySet(), e.toString());
    }
  }

  /** kwik's peer-initiated stream callback (its single callback thread): hand off at once. */
  void onPeerStream(QuicStream stream) {
    inbound.execute(() -> acceptPeerStream(stream, 0));
  }

  private void acceptPeerStream(QuicStream ks, int attempt) {
    if (!ks.isBidirectional()) {
      ks.abortReading(StreamResetException.REFUSED); // Braid uses bidirectional streams only (and grants no credit)
      return;
    }
    int id = ks.getStreamId();
    StreamSignals sig = router.forPeerStream(id);
    QuicMuxedStream s = new QuicMuxedStream(this, ks, sig, false, null);
    if (!addStream(s)) {
      if (isOpen() && attempt < 20) {
        // kwik frees a stream (and grants the peer a new one) as soon as it processed a reset; Braid's count
        // follows once the stream's pump has run. Give in-flight terminations a moment before refusing.
        try {
          transport.scheduler().schedule(() -> inbound.execute(() -> acceptPeerStream(ks, attempt + 1)), 5,
              TimeUnit.MILLISECONDS);
          return;
        } catch (RejectedExecutionException closing) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: transport closing; refusing peer stream {1} now", this, id);
        }
      }
      LOG.log(System.Logger.Level.DEBUG, "{0}: refusing peer stream {1}: stream limit or connection ending", this, id);
      s.refuseUnregistered();
      sig.stream = s; // it drains what the peer still sends, so the connection window gets it back
      return;
    }
    s.register();
    sig.stream = s;
    s.pokeReceiver();
    if (!deliverInbound(s)) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: accept queue full or connection ending, refusing peer stream {1}", this, id);
      s.refuseRegistered("accept backlog full (maxPendingInboundStreams=" + options().maxPendingInboundStreams()
          + ") or the connection is ending"); // RESET_STREAM + STOP_SENDING with REFUSED
    }
  }

  /**
   * kwik aborted the connection after an internal fault of its own without telling its {@code ConnectionListener}
   * ({@link Kwik0108#isAbortLog}); the tap reports it here. Nothing was sent to the peer, which learns of it through its
   * idle timeout.
   */
  void onKwikAborted(Throwable error) {
    ConnectionFailedException cause = new ConnectionFailedException("kwik aborted the QUIC connection after an internal "
        + "error: " + error, error);
    try {
      transport.io().execute(() -> end(cause, false));
    } catch (RejectedExecutionException closing) {
      end(cause, false);
    }
  }

  /** kwik's ConnectionListener (its callback thread): hand off at once. */
  void onDisconnected(ConnectionTerminatedEvent event) {
    try {
      transport.io().execute(() -> handleDisconnected(event));
    } catch (RejectedExecutionException e) {
      handleDisconnected(event);
    }
  }

  private void handleDisconnected(ConnectionTerminatedEvent e) {
    end(CloseReason.of(e, options().idleTimeout()), e.closedByPeer());
  }

  private void end(Throwable cause, boolean remote) {
    terminated(cause, remote);
    if (endHandled.compareAndSet(false, true)) {
      keepAlive.stop();
      for (Runnable failOpen : pendingOpens) {
        failOpen.run();
      }
      router.clear();
      for (Runnable hook : terminationHooks) {
        try {
          hook.run();
        } catch (RuntimeException ex) {
          LOG.log(System.Logger.Level.WARNING, "cleanup after " + this + " failed", ex);
        }
      }
    }
    kwikEnded.complete(null);
  }

  // ---------------------------------------------------------------- AbstractConnection

  /**
   * Opens one QUIC stream. kwik's {@code createStream} waits, without a timeout, for stream credit (the peer's
   * MAX_STREAMS); opens run one at a time, and the wait is bounded by {@code connectTimeout}
   * ({@link Kwik0108.BlockingCall}).
   *
   * <p><b>What a credit wait that times out is.</b> Our own limit ({@code maxStreams}, counting both sides' streams)
   * is checked first and refuses locally ({@link StreamRefusedException}, not remote). kwik then waits only for the
   * peer's permission: MAX_STREAMS is the peer's stream limit, announced in advance instead of answered per stream.
   * A Braid peer grants more credit than its own limit and refuses the excess on the wire with
   * {@link StreamResetException#REFUSED} ({@link QuicTransport#peerStreamCredit}), so against Braid the wait ends
   * quickly, in a stream or in an explicit refusal. A peer that grants exactly its limit (kwik, quiche) and keeps its
   * streams open never answers at all; when the wait times out, the opener reports what held it back, the peer's
   * limit: {@link StreamRefusedException} marked remote, code {@code REFUSED}. If the connection ended meanwhile, the
   * open fails with the connection's cause instead.
   */
  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    CompletableFuture<MuxedStream> result = new CompletableFuture<>();
    Kwik0108.BlockingCall creditWait = new Kwik0108.BlockingCall();
    long timeoutMillis = options().connectTimeout().toMillis();
    Runnable timeout = () -> {
      ConnectionFailedException ended = endCause();
      if (result.completeExceptionally(ended != null ? ended : new StreamRefusedException("the peer granted no QUIC "
          + "stream credit (MAX_STREAMS) within " + timeoutMillis + " ms: its stream limit refused the stream", true))) {
        creditWait.abandon(); // wakes kwik's createStream
      }
    };
    ScheduledFuture<?> timer = transport.scheduler().schedule(timeout, timeoutMillis, TimeUnit.MILLISECONDS);
    Runnable failOnEnd = () -> {
      ConnectionFailedException ended = endCause();
      if (ended != null && result.completeExceptionally(ended)) {
        creditWait.abandon();
      }
    };
    pendingOpens.add(failOnEnd);
    result.whenComplete((s, t) -> {
      pendingOpens.remove(failOnEnd);
      timer.cancel(false);
    });
    if (endHandled.get()) {
      failOnEnd.run(); // ended while we registered
    }
    opener.execute(() -> open(result, creditWait, timer, listener));
    return result;
  }

  private void open(CompletableFuture<MuxedStream> result, Kwik0108.BlockingCall creditWait, ScheduledFuture<?> timer,
      StreamStateListener listener) {
    if (result.isDone()) {
      return; // timed out while queued
    }
    if (streamLimitReached()) {
      // Opens run one at a time and the core's check came before the earlier ones were registered: check again
      // before taking one of the peer's stream credits for a stream we would refuse ourselves.
      ConnectionFailedException end = endCause();
      result.completeExceptionally(end != null ? end : new StreamRefusedException(
          "stream limit reached: maxStreams=" + options().maxStreams()));
      return;
    }
    QuicStream ks;
    creditWait.enter();
    try {
      ks = kwik.createStream(true);
    } catch (Exception e) {
      ConnectionFailedException end = endCause();
      result.completeExceptionally(end != null ? end : new ConnectionFailedException("kwik could not create a stream: "
          + e, e)); // (a no-op when the open was given up: that interrupted the wait)
      return;
    } finally {
      creditWait.exit();
      timer.cancel(false);
    }
    if (result.isDone()) {
      // The credit came just as we gave up: give the stream back. The peer sees a stream withdrawn by its opener
      // (REFUSED, the reserved code Braid's transports use on the wire for a stream refused by either end).
      ks.resetStream(StreamResetException.REFUSED);
      ks.abortReading(StreamResetException.REFUSED);
      return;
    }
    StreamSignals sig = router.forLocalStream(ks.getStreamId());
    QuicMuxedStream s = new QuicMuxedStream(this, ks, sig, true, listener);
    if (!addStream(s)) {
      s.refuseUnregistered();
      sig.stream = s;
      ConnectionFailedException end = endCause();
      result.completeExceptionally(end != null ? end : new StreamRefusedException(
          "stream limit reached: maxStreams=" + options().maxStreams()));
      return;
    }
    s.register();
    sig.stream = s;
    try {
      // QUIC mapping 1: the stream's first byte, queued before the open completes, so before anything of the
      // application's; it is what announces the stream to the peer (QuicMuxedStream, "Stream preamble").
      s.writePreamble();
    } catch (IOException | RuntimeException e) {
      ConnectionFailedException end = endCause();
      result.completeExceptionally(end != null ? end : new ConnectionFailedException("kwik refused the preamble of "
          + "stream " + sig.streamId + ": " + e, e));
    }
    if (!result.complete(s)) {
      // withdrawn: REFUSED (after its preamble, if that was queued, so the peer sees the stream and its refusal)
      s.refuseRegistered("its open had already failed (timed out, the connection ended, or kwik refused its preamble)");
    }
  }

  @Override
  protected void doClose() {
    transport.blocking().execute(() -> {
      try {
        kwik.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "kwik failed to close " + this, e);
      } finally {
        end(null, false);
      }
    });
  }

  @Override
  protected void doAbort(Throwable cause) {
    transport.blocking().execute(() -> {
      try {
        kwik.close(ABORT_CODE, "aborted: " + cause);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "kwik failed to abort " + this, e);
      } finally {
        end(cause, false);
      }
    });
  }
}
