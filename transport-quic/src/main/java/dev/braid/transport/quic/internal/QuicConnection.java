package dev.braid.transport.quic.internal;

import dev.braid.Capability;
import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import dev.braid.spi.AbstractConnection;
import dev.braid.spi.SerialExecutor;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import tech.kwik.core.ConnectionTerminatedEvent;
import tech.kwik.core.QuicConstants;
import tech.kwik.core.QuicStream;
import tech.kwik.core.common.EncryptionLevel;
import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.PingFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.ResetStreamFrame;
import tech.kwik.core.frame.StopSendingFrame;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.packet.QuicPacket;

/**
 * A Braid connection over one kwik QUIC connection. Every {@link MuxedStream} is one bidirectional QUIC
 * stream ({@link QuicMuxedStream}); closing the connection sends CONNECTION_CLOSE.
 *
 * <p>Events reach it three ways, none of which blocks a kwik thread: parsed packets and sent packets through
 * {@link QuicFrameTap} ({@link #onPacketReceived}, {@link #onPacketSent}); new peer streams through kwik's
 * peer-initiated-stream callback, handed off at once to a per-connection serial queue; the end of the
 * connection through kwik's {@code ConnectionListener}, handed off to the transport's I/O pool.
 *
 * <p><b>Thread safety.</b> Thread-safe. No lock of this class is held while calling kwik or Braid's core.
 */
public final class QuicConnection extends AbstractConnection {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  /**
   * RESET_STREAM / STOP_SENDING code for a stream refused (our stream limit, a full accept queue, the connection
   * ending): Braid's reserved {@link StreamResetException#REFUSED}, which a Braid peer reports as
   * {@link StreamRefusedException} (remote). It used to be 0x0b, which an application's {@code reset(11)} sends too.
   */
  static final long REFUSED = StreamResetException.REFUSED;
  /** RESET_STREAM / STOP_SENDING code for a stream that failed in Braid's transport itself (the connection lives). */
  static final long INTERNAL_ERROR = StreamResetException.INTERNAL_ERROR;
  /** Application error code in CONNECTION_CLOSE when we abort. */
  static final long ABORT_CODE = 0x01;

  private final QuicTransport transport;
  private final tech.kwik.core.QuicConnection kwik;
  private final Map<Integer, StreamSignals> signals = new ConcurrentHashMap<>();
  private final SerialExecutor inbound;
  /** Opens run one at a time: at most one thread per connection waits in kwik's createStream for stream credit. */
  private final SerialExecutor opener;
  private final List<Runnable> terminationHooks = new CopyOnWriteArrayList<>();
  /** Opens still waiting (queued, or in kwik's createStream for credit): the connection's end fails them at once. */
  private final Set<Runnable> pendingOpens = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> kwikEnded = new CompletableFuture<>();
  private final AtomicBoolean endHandled = new AtomicBoolean();
  private int highestPeerStreamId = -1; // only touched on kwik's receiver thread for this connection
  private volatile long largestAcked = -1; // App level, from the peer's ACK frames
  private volatile long largestAckElicitingSent = -1; // App level
  private final AtomicBoolean ackWatchdogArmed = new AtomicBoolean();
  private volatile long watchdogAcked = -1;
  private volatile long watchdogDelayMillis = ACK_WATCHDOG_MILLIS;
  private volatile int pings;
  private static final long ACK_WATCHDOG_MILLIS = 50;
  /** When the last 1-RTT packet from the peer was parsed ({@link System#nanoTime()}), for the keep-alive. */
  private volatile long lastReceivedNanos = System.nanoTime();
  private volatile ScheduledFuture<?> keepAlive;
  private volatile int keepAlivePings;

  QuicConnection(QuicTransport transport, tech.kwik.core.QuicConnection kwik, boolean dialer, URI local, URI remote,
      Set<Capability> capabilities, TransportOptions options) {
    super(QuicTransport.ID, dialer, local, remote, capabilities, options);
    this.transport = transport;
    this.kwik = kwik;
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

  // ---------------------------------------------------------------- kwik → Braid

  /** kwik parsed {@code packet} and is about to process it (on its receiver thread). */
  void onPacketReceived(QuicPacket packet) {
    lastReceivedNanos = System.nanoTime();
    EncryptionLevel level = packet.getEncryptionLevel();
    if (level != EncryptionLevel.App && level != EncryptionLevel.ZeroRTT) {
      return;
    }
    List<QuicFrame> frames = packet.getFrames();
    for (QuicFrame f : frames) {
      if (f instanceof AckFrame) {
        long acked = ((AckFrame) f).getLargestAcknowledged();
        if (acked > largestAcked) {
          largestAcked = acked;
        }
      }
    }
    Set<Integer> stopSendingIds = null;
    for (QuicFrame f : frames) {
      if (f instanceof StopSendingFrame) {
        if (stopSendingIds == null) {
          stopSendingIds = new HashSet<>(4);
        }
        stopSendingIds.add(((StopSendingFrame) f).getStreamId());
      }
    }
    for (QuicFrame f : frames) {
      if (f instanceof StreamFrame) {
        StreamFrame sf = (StreamFrame) f;
        StreamSignals sig = signalsFor(sf.getStreamId(), true);
        if (sig == null) {
          continue;
        }
        long upTo = sf.getUpToOffset();
        if (upTo > sig.rxHighestUpTo) {
          sig.rxHighestUpTo = upTo;
        }
        if (sf.isFinal() && sig.rxFinalSize < 0) {
          sig.rxFinalSize = upTo;
        }
        sig.pokeReceiver();
      } else if (f instanceof ResetStreamFrame) {
        ResetStreamFrame rf = (ResetStreamFrame) f;
        StreamSignals sig = signalsFor(rf.getStreamId(), false);
        if (sig != null && (sig.rxResetSeq == 0 || sig.rxResetCode != rf.getErrorCode())) {
          sig.rxResetWithStopSending = stopSendingIds != null && stopSendingIds.contains(rf.getStreamId());
          sig.rxResetCode = rf.getErrorCode();
          sig.rxResetSeq++;
          sig.pokeReceiver();
          sig.watchForStrandedRead(); // kwik discards the stream's bytes right after this hook
        }
      } else if (f instanceof StopSendingFrame) {
        StopSendingFrame sf = (StopSendingFrame) f;
        StreamSignals sig = signalsFor(sf.getStreamId(), false);
        if (sig != null && sig.rxStopSendingCode < 0) {
          sig.rxStopSendingCode = sf.getErrorCode();
          sig.pokeReceiver();
        }
      }
    }
  }

  /** kwik sent {@code packet} (on its sender thread). */
  void onPacketSent(QuicPacket packet) {
    if (packet.getEncryptionLevel() == EncryptionLevel.App && packet.isAckEliciting() && packet.getPacketNumber() != null) {
      long pn = packet.getPacketNumber();
      if (pn > largestAckElicitingSent) {
        largestAckElicitingSent = pn;
      }
      armAckWatchdog();
    }
    for (QuicFrame f : packet.getFrames()) {
      if (f instanceof ResetStreamFrame) {
        ResetStreamFrame rf = (ResetStreamFrame) f;
        StreamSignals sig = signals.get(rf.getStreamId());
        if (sig != null && sig.sentResetFinalSize < 0) {
          sig.sentResetFinalSize = rf.getFinalSize();
        }
        continue;
      }
      if (f instanceof StreamFrame) {
        StreamFrame sf = (StreamFrame) f;
        StreamSignals sig = signals.get(sf.getStreamId());
        if (sig != null) {
          if (sf.getLength() > 0 || sf.isFinal()) {
            sig.anySent = true; // (not our zero-length announcement: if that is lost, it is sent again)
          }
          if (sf.isFinal()) {
            sig.finSent = true;
          }
          long upTo = sf.getUpToOffset();
          if (upTo > sig.sentUpTo) {
            sig.sentUpTo = upTo;
            sig.pokeSender();
          }
        }
      }
    }
  }

  private StreamSignals signalsFor(int streamId, boolean mayCreate) {
    StreamSignals sig = signals.get(streamId);
    if (sig != null || !mayCreate || !isPeerInitiatedBidi(streamId) || streamId <= highestPeerStreamId) {
      return sig;
    }
    int first = highestPeerStreamId < 0 ? (isDialer() ? 1 : 0) : highestPeerStreamId + 4;
    if ((streamId - first) / 4 > QuicTransport.peerStreamCredit(options()) + 16) {
      return null; // beyond any limit we granted: kwik closes the connection with STREAM_LIMIT_ERROR
    }
    for (int id = first; id <= streamId; id += 4) {
      signals.putIfAbsent(id, new StreamSignals(id));
    }
    highestPeerStreamId = streamId;
    return signals.get(streamId);
  }

  private boolean isPeerInitiatedBidi(int streamId) {
    return (streamId & 0x2) == 0 && (streamId & 0x1) == (isDialer() ? 1 : 0);
  }

  /**
   * kwik 0.10.8 processes 1-RTT packets of a server connection before the handshake completes (when the client's
   * Finished was lost or arrives late) and creates the peer's streams then, while its new-stream callback is still
   * a no-op: those streams would never be announced. The tap remembers their ids; here, on the receiver thread
   * right after the callback is installed, Braid looks them up in kwik's stream manager and accepts them.
   */
  void recoverEarlyStreams(Map<Integer, StreamSignals> early) {
    java.util.Set<Integer> ids = early.keySet();
    try {
      java.lang.reflect.Method getStreamManager = QuicConnectionImpl.class.getDeclaredMethod("getStreamManager");
      getStreamManager.setAccessible(true);
      Object manager = getStreamManager.invoke(kwik);
      java.lang.reflect.Field streamsField = manager.getClass().getDeclaredField("streams");
      streamsField.setAccessible(true);
      Map<?, ?> streams = (Map<?, ?>) streamsField.get(manager);
      int maxId = java.util.Collections.max(ids);
      for (int id = isDialer() ? 1 : 0; id <= maxId; id += 4) {
        Object s = streams.get(id);
        if (s instanceof QuicStream && isPeerInitiatedBidi(id)) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: accepting stream {1} that kwik opened before the handshake ended", this, id);
          signalsFor(id, true);
          StreamSignals seen = early.get(id);
          StreamSignals sig = signals.get(id);
          if (sig != null && seen != null) {
            sig.rxHighestUpTo = Math.max(sig.rxHighestUpTo, seen.rxHighestUpTo);
            if (seen.rxFinalSize >= 0) {
              sig.rxFinalSize = seen.rxFinalSize;
            }
          }
          onPeerStream((QuicStream) s);
        }
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "{0}: kwik opened streams {1} before the handshake ended and they cannot be"
          + " recovered ({2}); the peer will see them unanswered", this, ids, e.toString());
    }
  }

  /** kwik's peer-initiated stream callback (its single callback thread): hand off at once. */
  void onPeerStream(QuicStream stream) {
    inbound.execute(() -> acceptPeerStream(stream));
  }

  private void acceptPeerStream(QuicStream ks) {
    acceptPeerStream(ks, 0);
  }

  private void acceptPeerStream(QuicStream ks, int attempt) {
    if (!ks.isBidirectional()) {
      ks.abortReading(REFUSED); // Braid uses bidirectional streams only (and grants no unidirectional credit)
      return;
    }
    int id = ks.getStreamId();
    StreamSignals sig = signals.computeIfAbsent(id, StreamSignals::new);
    QuicMuxedStream s = new QuicMuxedStream(this, ks, sig, false, null);
    if (!addStream(s)) {
      if (isOpen() && attempt < 20) {
        // kwik frees a stream (and grants the peer a new one) as soon as it processed a reset; Braid's count
        // follows once the stream's pump has run. Give in-flight terminations a moment before refusing.
        try {
          transport.scheduler().schedule(() -> inbound.execute(() -> acceptPeerStream(ks, attempt + 1)), 5,
              TimeUnit.MILLISECONDS);
          return;
        } catch (java.util.concurrent.RejectedExecutionException closing) {
          // fall through: refuse
        }
      }
      LOG.log(System.Logger.Level.DEBUG, "{0}: refusing peer stream {1}: stream limit or connection ending", this, id);
      sig.stream = s; // it drains what the peer still sends, so the connection window gets it back
      s.refuseUnregistered();
      return;
    }
    sig.stream = s;
    s.pokeReceiver();
    if (!deliverInbound(s)) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: accept queue full or connection ending, refusing peer stream {1}", this, id);
      s.refuseRegistered("accept backlog full (maxPendingInboundStreams=" + options().maxPendingInboundStreams()
          + ") or the connection is ending"); // RESET_STREAM + STOP_SENDING with REFUSED
    }
  }

  void forget(StreamSignals sig) {
    signals.remove(sig.streamId, sig);
  }

  /** Makes a locally opened stream known to the peer at once: QUIC sends nothing until the first STREAM frame. */
  void announce(QuicStream ks, StreamSignals sig) {
    if (!(kwik instanceof QuicConnectionImpl)) {
      return;
    }
    QuicConnectionImpl impl = (QuicConnectionImpl) kwik;
    StreamFrame empty = new StreamFrame(ks.getStreamId(), 0, new byte[0], false);
    impl.send(empty, lost -> {
      if (!sig.anySent && isOpen()) {
        announce(ks, sig);
      }
    }, true);
  }

  /**
   * A backup for kwik's loss recovery. On loopback kwik 0.10.8 measures a 0 ms RTT, and its loss detection then
   * computes a 0 ms loss delay (fixed upstream after 0.10.9, "fixed loss detection on fast machines"); we saw
   * tail packets that were sent, never received and never retransmitted, until the idle timeout. While
   * ack-eliciting packets are unacknowledged and no ACK progress happens for a while, send a PING: the peer's
   * ACK lets kwik detect the loss and retransmit. Backs off to 1 s; a dead peer still ends in the idle timeout.
   */
  private void armAckWatchdog() {
    if (largestAckElicitingSent <= largestAcked || !ackWatchdogArmed.compareAndSet(false, true)) {
      return;
    }
    watchdogAcked = largestAcked;
    try {
      transport.scheduler().schedule(this::checkAcks, watchdogDelayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      ackWatchdogArmed.set(false);
    }
  }

  private void checkAcks() {
    ackWatchdogArmed.set(false);
    if (!isOpen() || !(kwik instanceof QuicConnectionImpl)) {
      return;
    }
    long acked = largestAcked;
    if (largestAckElicitingSent > acked && acked == watchdogAcked) {
      pings++;
      watchdogDelayMillis = Math.min(1000, watchdogDelayMillis * 2);
      ping();
    } else {
      watchdogDelayMillis = ACK_WATCHDOG_MILLIS;
    }
    armAckWatchdog();
  }

  /**
   * Starts the keep-alive ({@link TransportOptions#keepAliveInterval()}; zero disables it): whenever nothing has been
   * received from the peer for that long, send a PING. The peer's ACK (and our PING, at the peer) restarts both ends'
   * idle timers, so an idle but healthy connection outlives a short idle timeout; a peer that vanished answers
   * nothing, and the idle timeout ends the connection with {@link ConnectionTimedOutException}. kwik's own
   * {@code keepAlive(seconds)} is not used: client only, whole seconds, and it stops after the given time.
   */
  void startKeepAlive() {
    long interval = options().keepAliveInterval().toNanos();
    if (interval > 0) {
      scheduleKeepAlive(interval);
    }
  }

  private void scheduleKeepAlive(long delayNanos) {
    if (!isOpen()) {
      return;
    }
    try {
      keepAlive = transport.scheduler().schedule(this::keepAliveTick, delayNanos, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      LOG.log(System.Logger.Level.DEBUG, "transport closing; no keep-alive for {0}", this);
    }
  }

  private void keepAliveTick() {
    if (!isOpen()) {
      return;
    }
    long interval = options().keepAliveInterval().toNanos();
    long silent = System.nanoTime() - lastReceivedNanos;
    if (silent >= interval) {
      keepAlivePings++;
      ping();
      scheduleKeepAlive(interval);
    } else {
      scheduleKeepAlive(interval - silent);
    }
  }

  /** PINGs sent by the keep-alive (diagnostics). */
  int keepAlivePings() {
    return keepAlivePings;
  }

  /** Sends a PING and wakes kwik's sender. */
  void ping() {
    if (kwik instanceof QuicConnectionImpl && isOpen()) {
      try {
        ((QuicConnectionImpl) kwik).send(new PingFrame(), f -> { }, true);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "could not send a PING on " + this, e);
      }
    }
  }

  /** How often the ACK watchdog had to send a PING (diagnostics). */
  int pings() {
    return pings;
  }

  /**
   * Until the stream has sent data of its own, repeat the zero-length announcement now and then (a duplicate is
   * harmless): kwik's loss detection on loopback does not always notice that the first one was lost.
   */
  private void reannounceLater(QuicStream ks, StreamSignals sig, int attempt) {
    if (attempt > 8) {
      return;
    }
    try {
      transport.scheduler().schedule(() -> {
        QuicMuxedStream s = sig.stream;
        if (sig.anySent || !isOpen() || s == null || s.state().isTerminal()) {
          return;
        }
        announce(ks, sig);
        reannounceLater(ks, sig, attempt + 1);
      }, 50L << attempt, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      LOG.log(System.Logger.Level.DEBUG, "transport closing; stream {0} not re-announced", sig.streamId);
    }
  }

  /**
   * Runs {@code task}, which calls kwik's {@code resetStream}, on kwik's sender thread; every Braid call of
   * {@code resetStream} on a stream that may hold bytes goes through here.
   *
   * <p>kwik 0.10.8's {@code StreamOutputStreamImpl.reset} clears the stream's {@code SendBuffer} on the calling
   * thread, while the sender thread may be inside {@code SendBuffer.getStreamFrame} for the same stream: that checks
   * that the queue is not empty, then peeks {@code null} and throws {@code NullPointerException}, which kills kwik's
   * sender thread ("Sender thread aborted with exception") and with it the whole connection (still so on kwik's
   * master). It needs bytes in kwik's send buffer at the moment of the reset: a reset racing writes, or a FIN queued
   * behind a full window (kit rule R2, {@code QuicRaceTest}). Run from a frame supplier, which kwik calls on its sender
   * thread while it assembles a packet and which adds no frame, the clear cannot overlap an assembly. kwik itself
   * still resets a stream on its receiver thread when the peer's STOP_SENDING arrives; that call Braid cannot move.
   */
  void onSenderThread(Runnable task) {
    if (!(kwik instanceof QuicConnectionImpl)) {
      task.run();
      return;
    }
    ((QuicConnectionImpl) kwik).send(maxFrameSize -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        // never into kwik's sender loop: an exception there ends the connection
        LOG.log(System.Logger.Level.WARNING, "a stream reset on " + this + " failed on kwik's sender thread", e);
      }
      return null; // no frame of its own: what the task queues (kwik's RESET_STREAM) follows
    }, 1, EncryptionLevel.App, lost -> { }, true);
  }

  /** Sends RESET_STREAM ourselves: kwik's resetStream is a no-op once its FIN is queued. */
  void sendResetFrame(int streamId, long code, long finalSize) {
    if (kwik instanceof QuicConnectionImpl) {
      ResetStreamFrame frame = new ResetStreamFrame(streamId, code, finalSize);
      ((QuicConnectionImpl) kwik).send(frame, lost -> {
        if (isOpen()) {
          sendResetFrame(streamId, code, finalSize);
        }
      }, true);
    }
  }

  /**
   * Queues a STOP_SENDING frame for {@code streamId} with {@code code}, sent again if lost while
   * {@code stillNeeded} holds. Braid sends it itself instead of kwik's {@code abortReading}, which would also drop
   * the stream's connection-level flow-control credit (see {@link QuicMuxedStream}).
   */
  void sendStopSendingFrame(int streamId, long code, BooleanSupplier stillNeeded) {
    if (kwik instanceof QuicConnectionImpl) {
      StopSendingFrame frame = new StopSendingFrame(null, streamId, code); // kwik ignores the version argument
      ((QuicConnectionImpl) kwik).send(frame, lost -> {
        if (isOpen() && stillNeeded.getAsBoolean()) {
          sendStopSendingFrame(streamId, code, stillNeeded);
        }
      }, true);
    }
  }

  /**
   * kwik aborted the connection after an internal fault of its own ({@code abortConnection}: its sender thread died,
   * e.g. the {@code SendBuffer} race in the README, or its receiver failed). kwik tells its logger and stops, but not its
   * {@code ConnectionListener}: without this the connection would look open for good, and opens and reads on it would
   * hang. The tap ({@link QuicFrameTap#error(String, Throwable)}) reports it here; nothing was sent to the peer, which
   * learns of it through its idle timeout.
   */
  void onKwikAborted(Throwable error) {
    ConnectionFailedException cause = new ConnectionFailedException("kwik aborted the QUIC connection after an internal "
        + "error: " + error, error);
    try {
      transport.io().execute(() -> end(cause, false));
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      end(cause, false);
    }
  }

  /** kwik's ConnectionListener (its callback thread): hand off at once. */
  void onDisconnected(ConnectionTerminatedEvent event) {
    try {
      transport.io().execute(() -> handleDisconnected(event));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      handleDisconnected(event);
    }
  }

  private void handleDisconnected(ConnectionTerminatedEvent e) {
    Throwable cause;
    boolean remote = e.closedByPeer();
    switch (e.closeReason()) {
      // kwik's idle timer closes the connection silently (RFC 9000 §10.1) once nothing was received for the idle
      // timeout (the smaller of both ends' max_idle_timeout, at least 3 PTO, checked once a second). It calls that
      // ConnectionLost when our own last packets went unanswered (tail loss), IdleTimeout otherwise: both are the
      // survivor's view of a peer that vanished without a word, so both are ConnectionTimedOutException.
      case IdleTimeout:
        cause = new ConnectionTimedOutException("QUIC idle timeout: nothing received from the peer for "
            + options().idleTimeout().toMillis() + " ms (kwik closed the connection silently; a vanished peer or a "
            + "stalled sender ends this way)", null);
        break;
      case ConnectionLost:
        cause = new ConnectionTimedOutException("QUIC connection lost: nothing received from the peer for "
            + options().idleTimeout().toMillis() + " ms while our last packets went unacknowledged (idle timeout with "
            + "tail loss; kwik closed the connection silently)", null);
        break;
      case StatelessReset:
        cause = new ConnectionFailedException("QUIC stateless reset from the peer: it has no state for this connection",
            null);
        break;
      default:
        cause = describeClose(e);
        break;
    }
    end(cause, remote);
  }

  private static Throwable describeClose(ConnectionTerminatedEvent e) {
    if (!e.hasError()) {
      return null; // graceful CONNECTION_CLOSE with NO_ERROR
    }
    String who = e.closedByPeer() ? "the peer closed the QUIC connection" : "kwik closed the QUIC connection";
    String reason = e.errorDescription() == null || e.errorDescription().isEmpty() ? "" : ": " + e.errorDescription();
    if (e.hasTransportError()) {
      long code = e.transportErrorCode();
      String name;
      try {
        QuicConstants.TransportErrorCode known = QuicConstants.TransportErrorCode.fromValue(code);
        name = known == null ? "transport error" : known.name();
      } catch (RuntimeException unknown) {
        name = "transport error";
      }
      if (code == 0) {
        return null;
      }
      return new ProtocolException(who + " with " + name + " (0x" + Long.toHexString(code) + ")" + reason);
    }
    long code = e.applicationErrorCode() == null ? -1 : e.applicationErrorCode();
    if (code == 0 && e.closedByPeer()) {
      return null;
    }
    return new ConnectionFailedException(who + " with application error code " + code + reason, null);
  }

  private void end(Throwable cause, boolean remote) {
    terminated(cause, remote);
    if (endHandled.compareAndSet(false, true)) {
      ScheduledFuture<?> k = keepAlive;
      if (k != null) {
        k.cancel(false);
      }
      for (Runnable failOpen : pendingOpens) {
        failOpen.run();
      }
      signals.clear();
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
   * MAX_STREAMS); opens run one at a time, and the wait is bounded by {@code connectTimeout}.
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
    AtomicReference<Thread> creator = new AtomicReference<>();
    long timeoutMillis = options().connectTimeout().toMillis();
    java.util.function.Consumer<Throwable> giveUp = failure -> {
      if (result.completeExceptionally(failure)) {
        synchronized (creator) {
          Thread t = creator.get();
          if (t != null) {
            t.interrupt(); // wakes kwik's createStream; the blocking pool clears the flag
          }
        }
      }
    };
    ScheduledFuture<?> timer = transport.scheduler().schedule(() -> {
      ConnectionFailedException ended = endCause();
      giveUp.accept(ended != null ? ended : new StreamRefusedException("the peer granted no QUIC stream credit "
          + "(MAX_STREAMS) within " + timeoutMillis + " ms: its stream limit refused the stream", true));
    }, timeoutMillis, TimeUnit.MILLISECONDS);
    Runnable failOnEnd = () -> {
      ConnectionFailedException ended = endCause();
      if (ended != null) {
        giveUp.accept(ended);
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
    opener.execute(() -> {
      if (result.isDone()) {
        return; // timed out while queued
      }
      if (streamLimitReached()) {
        // Opens run one at a time and the core's check came before the earlier ones were registered: check again
        // before taking one of the peer's stream credits for a stream we would refuse ourselves.
        timer.cancel(false);
        ConnectionFailedException end = endCause();
        result.completeExceptionally(end != null ? end : new StreamRefusedException(
            "stream limit reached: maxStreams=" + options().maxStreams()));
        return;
      }
      QuicStream ks;
      synchronized (creator) {
        creator.set(Thread.currentThread());
      }
      try {
        ks = kwik.createStream(true);
      } catch (Exception e) {
        ConnectionFailedException end = endCause();
        if (!result.isDone()) {
          result.completeExceptionally(end != null ? end
              : new ConnectionFailedException("kwik could not create a stream: " + e, e));
        }
        return;
      } finally {
        synchronized (creator) {
          creator.set(null);
        }
        Thread.interrupted();
        timer.cancel(false);
      }
      if (result.isDone()) {
        // The credit came just as we gave up: give the stream back. The peer sees a stream withdrawn by its opener
        // (REFUSED, the reserved code Braid's transports use on the wire for a stream refused by either end).
        ks.resetStream(REFUSED);
        ks.abortReading(REFUSED);
        return;
      }
      StreamSignals sig = new StreamSignals(ks.getStreamId());
      signals.put(sig.streamId, sig);
      QuicMuxedStream s = new QuicMuxedStream(this, ks, sig, true, listener);
      if (!addStream(s)) {
        sig.stream = s;
        s.refuseUnregistered();
        ConnectionFailedException end = endCause();
        result.completeExceptionally(end != null ? end : new StreamRefusedException(
            "stream limit reached: maxStreams=" + options().maxStreams()));
        return;
      }
      sig.stream = s;
      try {
        announce(ks, sig);
        reannounceLater(ks, sig, 1);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "could not announce stream " + sig.streamId + " early; the first byte will", e);
      }
      if (!result.complete(s)) {
        s.refuseRegistered("its open had already failed (timed out, or the connection ended)"); // withdrawn: REFUSED
      }
    });
    return result;
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

  /** Why the connection ended, or null while it is open. */
  ConnectionFailedException failure() {
    return endCause();
  }

  int liveSignals() {
    return signals.size();
  }
}
