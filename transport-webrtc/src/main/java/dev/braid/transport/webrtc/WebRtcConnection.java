package dev.braid.transport.webrtc;

import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractConnection;
import dev.braid.spi.SerialExecutor;
import dev.braid.transport.webrtc.internal.SdpCheck;
import dev.braid.transport.webrtc.internal.SignalingServer;
import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PortAllocatorConfig;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceConnectionState;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.RTCStatsReport;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionObserver;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Braid connection over one WebRTC peer connection: one ordered, reliable data channel per stream,
 * plus one control channel (pre-negotiated, SCTP stream id 0, as libp2p reserves negotiated channels for
 * handshakes) whose closure tells each side that the other closed the connection.
 *
 * <p>Each side creates the data channels of the streams it opens, negotiated in-band
 * ({@code negotiated: false}, empty label), so libwebrtc picks SCTP stream ids by DTLS role (one side
 * even, the other odd, RFC 8832) and the two sides never collide. Braid stream ids are a per-connection
 * counter, independent of SCTP ids (which libwebrtc reuses after a channel closed).
 *
 * <p><b>Closing.</b> {@link #close()} waits (bounded) until every channel handed its buffered bytes to
 * SCTP, closes the control channel and waits for its closure to complete: SCTP resets a stream only
 * after every earlier message of the association arrived, so once it completes the peer has everything.
 * Then every channel and the peer connection are closed and disposed, exactly once. The peer sees the
 * control channel close and ends its side with a {@link dev.braid.ConnectionClosedException}.
 *
 * <p><b>Liveness.</b> Every message received on any channel (and a channel the peer opens) counts as a sign of
 * life. With a Braid peer (one that announced {@code a=x-braid-keepalive} in its SDP) the connection sends a
 * one-byte PING on the control channel when it has received nothing for {@code keepAliveInterval}; the peer answers
 * with a PONG. When nothing at all arrived for {@code idleTimeout}, the connection ends with
 * {@link ConnectionTimedOutException}. A peer that does not speak the keep-alive (a browser, libp2p) is never pinged
 * and never expected to ping: its connection relies on ICE, and ends with {@link ConnectionTimedOutException} when the
 * peer connection stays DISCONNECTED (with nothing received) for {@code idleTimeout}, or when ICE consent expires
 * (FAILED, 15 s after the peer went silent in libwebrtc here; not configurable through webrtc-java).
 *
 * <p><b>Thread safety.</b> Thread-safe. Calls into the peer connection (creating channels, SDP, closing)
 * run on the transport's one signaling executor; libwebrtc's callbacks only copy their arguments and
 * hand them to this connection's ordered executor. No lock of this class is held across a native call
 * that a callback could wait for.
 */
public final class WebRtcConnection extends AbstractConnection {
  private static final System.Logger LOG = System.getLogger(WebRtcConnection.class.getName());
  private static final int CONTROL_CHANNEL_ID = 0;
  /**
   * libwebrtc allocates SCTP stream ids 0..1023 only, split by parity between the two sides, and
   * webrtc-java 0.14.0 crashes the JVM when {@code createDataChannel} fails: so at most this many data
   * channels of ours may exist at once (id 0 is the control channel). More opens are refused.
   */
  static final int MAX_LOCAL_CHANNELS = 511;
  /** How long the channel of a stream we reset stays open for the peer to close it (see closeChannelAfterReset). */
  static final long RESET_CLOSE_GRACE_MILLIS = 1000;
  /** A control channel message (one byte): asks the peer for a {@link #CONTROL_PONG}. */
  static final byte CONTROL_PING = 1;
  /** A control channel message (one byte): the answer to a {@link #CONTROL_PING}. */
  static final byte CONTROL_PONG = 2;
  /** The shortest period of the liveness timer. */
  private static final long MIN_LIVENESS_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final WebRtcTransport transport;
  private final SerialExecutor serial;
  private final AtomicLong nextStreamId = new AtomicLong();
  private final java.util.concurrent.atomic.AtomicInteger localChannels = new java.util.concurrent.atomic.AtomicInteger();
  private final Set<WebRtcMuxedStream> channels = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> gathered = new CompletableFuture<>();
  private final CompletableFuture<Void> established = new CompletableFuture<>();
  private final AtomicBoolean tearingDown = new AtomicBoolean();
  private final Object controlLock = new Object();

  private volatile RTCPeerConnection pc; // written once on the signaling executor
  private volatile long peerWindow = -1; // the peer's per-stream receive window; -1: no Braid flow control
  private RTCDataChannel control; // guarded by controlLock
  private boolean controlDisposed; // guarded by controlLock
  private ControlObserver controlObserver; // guarded by controlLock

  /** Whether the peer announced Braid's keep-alive in its SDP: we ping it and expect it to answer (and ping us). */
  private volatile boolean peerKeepAlive;
  /** {@link System#nanoTime()} of the last message received from the peer on any channel. */
  private volatile long lastReceived = System.nanoTime();
  /** {@link System#nanoTime()} when the peer connection went DISCONNECTED, or 0 while it is not. */
  private volatile long disconnectedSince;
  private volatile RTCIceConnectionState iceState = RTCIceConnectionState.NEW;
  private volatile ScheduledFuture<?> liveness;
  private final java.util.concurrent.atomic.AtomicLong pingsSent = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong pongsReceived = new java.util.concurrent.atomic.AtomicLong();

  WebRtcConnection(WebRtcTransport transport, boolean dialer, URI localAddress, URI remoteAddress) {
    super(WebRtcTransportProvider.ID, dialer, localAddress, remoteAddress, WebRtcTransportProvider.CAPABILITIES,
        transport.options());
    this.transport = transport;
    this.serial = new SerialExecutor(transport.ioPool());
  }

  SerialExecutor serial() {
    return serial;
  }

  ConnectionFailedException endCauseOrNull() {
    return endCause();
  }

  /** Completes once the control channel is open on this side. */
  CompletableFuture<Void> established() {
    return established;
  }

  // ---------------------------------------------------------------- handshake

  /** Dialer: creates the peer connection and the control channel, and returns the complete SDP offer. */
  CompletableFuture<String> createOffer() {
    CompletableFuture<String> result = new CompletableFuture<>();
    onSignaling(result, () -> {
      createPeer();
      createControlChannel();
      pc.createOffer(new RTCOfferOptions(), describe(result, "createOffer"));
    });
    // Announce Braid's per-stream flow control and keep-alive to the listener (a non-Braid answerer ignores them).
    return result.thenApply(sdp -> SdpCheck.withKeepAlive(SdpCheck.withWindow(sdp, options().receiveWindow())));
  }

  /** Dialer: applies the listener's SDP answer. */
  CompletableFuture<Void> applyAnswer(String sdp) {
    peerWindow = SdpCheck.window(sdp);
    peerKeepAlive = SdpCheck.keepAlive(sdp);
    CompletableFuture<Void> result = new CompletableFuture<>();
    onSignaling(result, () -> setRemote(new RTCSessionDescription(RTCSdpType.ANSWER, sdp),
        new SetSessionDescriptionObserver() {
          @Override
          public void onSuccess() {
            result.complete(null);
          }

          @Override
          public void onFailure(String error) {
            result.completeExceptionally(new ConnectionFailedException("webrtc: the listener's SDP answer was rejected: "
                + error, null));
          }
        }));
    return result;
  }

  private void setRemote(RTCSessionDescription d, SetSessionDescriptionObserver o) {
    try {
      pc.setRemoteDescription(d, o);
    } catch (Error e) { // webrtc-java throws java.lang.Error for SDP it cannot parse
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      o.onFailure(String.valueOf(e.getMessage()));
    }
  }

  /** Listener: applies the dialer's offer and returns the complete SDP answer. */
  CompletableFuture<String> acceptOffer(String sdp) {
    long announced = SdpCheck.window(sdp);
    peerWindow = announced;
    boolean keepAlive = SdpCheck.keepAlive(sdp);
    peerKeepAlive = keepAlive;
    CompletableFuture<String> result = new CompletableFuture<>();
    onSignaling(result, () -> {
      createPeer();
      RTCSessionDescription offer;
      try {
        offer = new RTCSessionDescription(RTCSdpType.OFFER, sdp);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(e);
      }
      SetSessionDescriptionObserver applied = new SetSessionDescriptionObserver() {
        @Override
        public void onSuccess() {
          onSignaling(result, () -> {
            createControlChannel();
            pc.createAnswer(new RTCAnswerOptions(), describe(result, "createAnswer"));
          });
        }

        @Override
        public void onFailure(String error) {
          result.completeExceptionally(new SignalingServer.OfferRejectedException("the SDP offer was rejected: " + error));
        }
      };
      try {
        pc.setRemoteDescription(offer, applied);
      } catch (Error e) { // webrtc-java throws java.lang.Error for SDP it cannot parse
        if (e instanceof VirtualMachineError) {
          throw e;
        }
        result.completeExceptionally(new SignalingServer.OfferRejectedException("the SDP offer was rejected: "
            + e.getMessage()));
      }
    });
    // Only a dialer that announced Braid's flow control (keep-alive) gets it back.
    return result.thenApply(a -> {
      String answer = announced > 0 ? SdpCheck.withWindow(a, options().receiveWindow()) : a;
      return keepAlive ? SdpCheck.withKeepAlive(answer) : answer;
    });
  }

  private CreateSessionDescriptionObserver describe(CompletableFuture<String> result, String what) {
    return new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription description) {
        onSignaling(result, () -> pc.setLocalDescription(description, new SetSessionDescriptionObserver() {
          @Override
          public void onSuccess() {
            // Non-trickle: the SDP goes out once ICE gathering is complete, with every candidate in it.
            gathered.whenComplete((ok, err) -> onSignaling(result, () -> {
              RTCSessionDescription local = pc.getLocalDescription();
              if (local == null) {
                throw new IllegalStateException("no local description after gathering");
              }
              result.complete(local.sdp);
            }));
            onSignaling(result, () -> {
              if (pc.getIceGatheringState() == RTCIceGatheringState.COMPLETE) {
                gathered.complete(null);
              }
            });
          }

          @Override
          public void onFailure(String error) {
            result.completeExceptionally(new ConnectionFailedException("webrtc: setLocalDescription failed: " + error, null));
          }
        }));
      }

      @Override
      public void onFailure(String error) {
        result.completeExceptionally(new ConnectionFailedException("webrtc: " + what + " failed: " + error, null));
      }
    };
  }

  /** Runs {@code action} on the signaling executor; a failure completes {@code result} exceptionally. */
  private void onSignaling(CompletableFuture<?> result, Runnable action) {
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
        if (e instanceof VirtualMachineError) {
          throw (VirtualMachineError) e;
        }
        result.completeExceptionally(e);
      }
    }, result);
  }

  private void createPeer() {
    RTCConfiguration config = new RTCConfiguration();
    config.portAllocatorConfig = new PortAllocatorConfig().setDisableTcp(true);
    pc = transport.factory().createPeerConnection(config, new PeerConnectionObserver() {
      @Override
      public void onIceCandidate(RTCIceCandidate candidate) {
        // Non-trickle signaling: candidates travel inside the complete SDP.
      }

      @Override
      public void onIceGatheringChange(RTCIceGatheringState state) {
        if (state == RTCIceGatheringState.COMPLETE) {
          gathered.complete(null);
        }
      }

      @Override
      public void onConnectionChange(RTCPeerConnectionState state) {
        serial.execute(() -> onPeerConnectionState(state));
      }

      @Override
      public void onIceConnectionChange(RTCIceConnectionState state) {
        iceState = state;
      }

      @Override
      public void onDataChannel(RTCDataChannel channel) {
        markReceived(); // the peer's DCEP open message
        serial.execute(() -> onRemoteChannel(channel));
      }
    });
    if (pc == null) {
      throw new IllegalStateException("webrtc: createPeerConnection returned null");
    }
  }

  private void createControlChannel() {
    RTCDataChannelInit init = new RTCDataChannelInit();
    init.negotiated = true;
    init.id = CONTROL_CHANNEL_ID;
    init.ordered = true;
    RTCDataChannel ch = pc.createDataChannel("braid-control", init);
    synchronized (controlLock) {
      control = ch;
      controlObserver = new ControlObserver(this);
      ch.registerObserver(controlObserver);
    }
    serial.execute(this::onControlState);
  }

  /**
   * The control channel's observer. Like {@link WebRtcMuxedStream.ChannelObserver}, it holds the connection only
   * until the control channel is disposed: webrtc-java 0.14.0 never frees a registered native observer, whose JNI
   * global reference would otherwise keep every closed connection reachable.
   */
  private static final class ControlObserver implements RTCDataChannelObserver {
    private volatile WebRtcConnection connection;

    ControlObserver(WebRtcConnection connection) {
      this.connection = connection;
    }

    void detach() {
      connection = null;
    }

    @Override
    public void onBufferedAmountChange(long previousAmount) {}

    @Override
    public void onStateChange() {
      WebRtcConnection c = connection;
      if (c != null) {
        c.serial.execute(c::onControlState);
      }
    }

    @Override
    public void onMessage(RTCDataChannelBuffer buffer) {
      // The control channel carries the keep-alive (one-byte PING and PONG); its closure is the close signal.
      // Unknown messages are ignored (a later version may send more). Never take a lock here.
      WebRtcConnection c = connection;
      if (c != null) {
        c.markReceived();
        ByteBuffer data = buffer.data;
        if (buffer.binary && data != null && data.remaining() == 1) {
          byte type = data.get(data.position());
          if (type == CONTROL_PING) {
            c.answerPing();
          } else if (type == CONTROL_PONG) {
            c.pongsReceived.incrementAndGet();
          }
        }
      }
    }
  }

  private RTCDataChannelState controlState() {
    synchronized (controlLock) {
      return control == null || controlDisposed ? RTCDataChannelState.CLOSED : control.getState();
    }
  }

  private void onControlState() {
    RTCDataChannelState s = controlState();
    if (s == RTCDataChannelState.OPEN) {
      if (established.complete(null)) {
        startLiveness();
      }
    } else if (s == RTCDataChannelState.CLOSING || s == RTCDataChannelState.CLOSED) {
      if (!established.isDone()) {
        established.completeExceptionally(new ConnectionFailedException("webrtc: the peer closed the connection during "
            + "the handshake", null));
        teardown(null, true, false);
      } else if (!tearingDown.get()) {
        LOG.log(System.Logger.Level.DEBUG, "{0}: the peer closed the control channel", this);
        teardown(null, true, false);
      }
    }
  }

  private void onPeerConnectionState(RTCPeerConnectionState state) {
    if (state == RTCPeerConnectionState.FAILED && !tearingDown.get()) {
      RTCIceConnectionState ice = iceState;
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
    } else if (state == RTCPeerConnectionState.DISCONNECTED) {
      if (disconnectedSince == 0) {
        disconnectedSince = System.nanoTime() | 1; // never 0
      }
      LOG.log(System.Logger.Level.DEBUG, "{0}: peer connection disconnected; waiting for ICE to recover or fail", this);
    } else if (state == RTCPeerConnectionState.CONNECTED) {
      disconnectedSince = 0;
    }
  }

  private boolean isEstablished() {
    return established.isDone() && !established.isCompletedExceptionally();
  }

  // ---------------------------------------------------------------- liveness (keep-alive, idle timeout)

  /** Something arrived from the peer (any message on any channel). Called on libwebrtc's threads: no lock. */
  void markReceived() {
    lastReceived = System.nanoTime();
  }

  /** Whether the peer announced Braid's keep-alive (it is pinged, and expected to answer). */
  boolean peerSpeaksKeepAlive() {
    return peerKeepAlive;
  }

  /** Keep-alive pings sent so far. */
  long pingsSent() {
    return pingsSent.get();
  }

  /** Keep-alive answers (PONG) received so far. */
  long pongsReceived() {
    return pongsReceived.get();
  }

  /** Starts the liveness timer once the control channel is open. */
  private void startLiveness() {
    long idle = options().idleTimeout().toNanos();
    long keepAlive = options().keepAliveInterval().toNanos();
    long period = idle / 4;
    if (peerKeepAlive && keepAlive > 0) {
      period = Math.min(period, keepAlive / 2);
    }
    period = Math.max(period, MIN_LIVENESS_PERIOD_NANOS);
    lastReceived = System.nanoTime();
    try {
      liveness = transport.scheduler().scheduleAtFixedRate(this::checkLiveness, period, period, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return; // the transport is closing: so is this connection
    }
    if (tearingDown.get()) {
      stopLiveness();
    }
  }

  private void stopLiveness() {
    ScheduledFuture<?> f = liveness;
    if (f != null) {
      f.cancel(false);
    }
  }

  /** On the transport's scheduler: pings a silent Braid peer, and ends a connection silent for idleTimeout. */
  private void checkLiveness() {
    if (tearingDown.get()) {
      stopLiveness();
      return;
    }
    long now = System.nanoTime();
    long silent = now - lastReceived;
    long idle = options().idleTimeout().toNanos();
    if (peerKeepAlive) {
      if (silent >= idle) {
        timedOut("idle timeout: nothing received for " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms (idleTimeout "
            + options().idleTimeout().toMillis() + " ms" + (options().keepAliveInterval().isZero() ? ""
            : "; keep-alive pings every " + options().keepAliveInterval().toMillis() + " ms unanswered") + ")");
        return;
      }
      long keepAlive = options().keepAliveInterval().toNanos();
      if (keepAlive > 0 && silent >= keepAlive && sendControl(CONTROL_PING)) {
        pingsSent.incrementAndGet();
      }
    } else {
      // A peer without Braid's keep-alive: only ICE can tell that it is gone.
      long since = disconnectedSince;
      if (since != 0 && now - since >= idle && silent >= idle) {
        timedOut("the peer connection has been DISCONNECTED (ICE " + iceState + ") for "
            + TimeUnit.NANOSECONDS.toMillis(now - since) + " ms with nothing received (idleTimeout "
            + options().idleTimeout().toMillis() + " ms)");
      }
    }
  }

  private void timedOut(String why) {
    stopLiveness();
    ConnectionTimedOutException cause = new ConnectionTimedOutException("webrtc: " + why, null);
    LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", this, cause.getMessage());
    try {
      transport.ioPool().execute(() -> abort(cause));
    } catch (RejectedExecutionException e) {
      abort(cause);
    }
  }

  /** The peer pinged: answer at once (from the scheduler, never from libwebrtc's callback thread). */
  private void answerPing() {
    try {
      transport.scheduler().execute(() -> sendControl(CONTROL_PONG));
    } catch (RejectedExecutionException e) {
      // the transport is closing
    }
  }

  /** Sends a one-byte control message; returns whether it was handed to the channel. */
  private boolean sendControl(byte type) {
    synchronized (controlLock) {
      if (control == null || controlDisposed || tearingDown.get() || control.getState() != RTCDataChannelState.OPEN) {
        return false;
      }
      try {
        // webrtc-java sends the whole backing array: an exact-size one.
        control.send(new RTCDataChannelBuffer(ByteBuffer.wrap(new byte[] {type}), true));
        return true;
      } catch (Exception e) {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send a control message on {0}: {1}", this, e.getMessage());
        return false;
      }
    }
  }

  /**
   * The peer connection's statistics (libwebrtc's {@code getStats}): the selected ICE candidate pair and its
   * addresses, for diagnostics and for the test fixture that cuts a connection's path.
   */
  CompletableFuture<RTCStatsReport> stats() {
    CompletableFuture<RTCStatsReport> result = new CompletableFuture<>();
    onSignaling(result, () -> {
      RTCPeerConnection p = pc;
      if (p == null) {
        throw new IllegalStateException("webrtc: no peer connection yet");
      }
      p.getStats(result::complete);
    });
    return result;
  }

  // ---------------------------------------------------------------- streams

  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    CompletableFuture<MuxedStream> result = new CompletableFuture<>();
    onSignaling(result, () -> {
      if (localChannels.get() >= MAX_LOCAL_CHANNELS) {
        result.completeExceptionally(new StreamRefusedException("webrtc: " + MAX_LOCAL_CHANNELS + " data channels of this "
            + "side are open or still closing; libwebrtc allows no more (SCTP stream ids 0..1023, split between the sides)"));
        return;
      }
      if (pc.getSignalingState() == dev.onvoid.webrtc.RTCSignalingState.CLOSED) {
        result.completeExceptionally(new ConnectionFailedException("webrtc: the peer connection is closed", null));
        return;
      }
      if (streamLimitReached()) {
        // Refused before a native channel exists: a refused channel's SCTP id stays taken until libwebrtc's
        // close handshake with the peer ends, so a flood of refused opens could exhaust the ids.
        ConnectionFailedException end = endCause();
        result.completeExceptionally(end != null ? end
            : new StreamRefusedException("stream limit reached (maxStreams=" + options().maxStreams() + ")"));
        return;
      }
      RTCDataChannelInit init = new RTCDataChannelInit();
      init.ordered = true; // reliable: no maxRetransmits / maxPacketLifeTime; negotiated in-band
      localChannels.incrementAndGet();
      RTCDataChannel ch = pc.createDataChannel("", init);
      if (ch == null) {
        localChannels.decrementAndGet();
        throw new IllegalStateException("webrtc: createDataChannel returned null");
      }
      WebRtcMuxedStream s = newStream(true, ch, listener);
      channels.add(s);
      if (!addStream(s)) {
        s.disposeChannelNow();
        channels.remove(s);
        s.refuseStream("stream limit reached (maxStreams=" + options().maxStreams() + ")");
        ConnectionFailedException end = endCause();
        result.completeExceptionally(end != null ? end
            : new StreamRefusedException("stream limit reached (maxStreams=" + options().maxStreams() + ")"));
        return;
      }
      s.registerObserverNow();
      serial.execute(s::onChannelStateChange);
      s.openFuture().whenComplete((ok, err) -> {
        if (err != null) {
          result.completeExceptionally(err);
        } else {
          result.complete(ok);
        }
      });
    });
    return result;
  }

  private WebRtcMuxedStream newStream(boolean local, RTCDataChannel ch, StreamStateListener listener) {
    return new WebRtcMuxedStream(this, nextStreamId.getAndIncrement(), local, ch, listener, transport.poller(),
        transport.maxReceiveBuffer(), options().receiveWindow(), peerWindow);
  }

  private void onRemoteChannel(RTCDataChannel ch) {
    if (tearingDown.get()) {
      transport.onSignaling(() -> {
        ch.close();
        ch.dispose();
      }, null);
      return;
    }
    // A Braid stream is a reliable, ordered byte stream: a partially reliable or unordered channel
    // cannot carry one, so it is refused (reset) rather than silently losing or reordering bytes.
    // (Asked before the channel is registered: nothing can dispose it yet.)
    boolean usable = ch.isOrdered() && ch.isReliable(); // webrtc-java reports maxRetransmits 0 for reliable channels
    WebRtcMuxedStream s = newStream(false, ch, null);
    channels.add(s);
    if (tearingDown.get()) {
      // The teardown may have disposed the registered channels already: this one goes the same way.
      disposeChannel(s);
      s.refuseStream("webrtc: inbound stream " + s + " refused: the connection is closing");
      return;
    }
    if (!usable) {
      LOG.log(System.Logger.Level.WARNING, "{0}: refusing a data channel that is not ordered and reliable (ordered={1}, "
          + "reliable={2})", this, ch.isOrdered(), ch.isReliable());
    }
    boolean accepted = usable && addStream(s);
    transport.onSignaling(() -> {
      s.registerObserverNow();
      serial.execute(s::onChannelStateChange);
    }, null);
    if (!accepted) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: refusing an inbound stream (unusable channel, limit or closing)", this);
      s.refuseStream("webrtc: inbound stream " + s + " refused: " + (!usable ? "its data channel is not ordered and "
          + "reliable" : "the stream limit (maxStreams=" + options().maxStreams() + ") is reached or the connection is "
          + "closing"));
    }
  }

  boolean deliver(WebRtcMuxedStream s) {
    return deliverInbound(s);
  }

  void requestChannelClose(WebRtcMuxedStream s) {
    transport.onSignaling(s::closeChannelNow, null);
  }

  /**
   * We sent RESET_STREAM on {@code s}: the peer closes the channel when it reads it (so do we, when we read one);
   * we close it ourselves only if the peer has not within {@value #RESET_CLOSE_GRACE_MILLIS} ms. Closing at once
   * would lose the RESET_STREAM when the peer's channel is that young: libwebrtc drops the messages a channel
   * received while it had no observer yet (the opener registers its observer when {@code createDataChannel}
   * returns) once the channel closes, so a refused opener would see its channel close without the refusal.
   */
  void closeChannelAfterReset(WebRtcMuxedStream s) {
    try {
      transport.scheduler().schedule(() -> requestChannelClose(s), RESET_CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      requestChannelClose(s); // the transport is closing
    }
  }

  void disposeChannel(WebRtcMuxedStream s) {
    transport.onSignaling(() -> {
      s.disposeChannelNow();
      channels.remove(s);
    }, null);
  }

  /** A locally created channel was disposed: its SCTP stream id is free again. */
  void localChannelReleased() {
    localChannels.decrementAndGet();
  }

  /**
   * A stream's channel closed before the stream ended: a connection teardown in progress, or a peer's abort (or
   * messages received before the closure are still on their way: see {@link WebRtcMuxedStream#onChannelStateChange}).
   * Returns whether a grace period was started, after which {@link WebRtcMuxedStream#closedEarlyCheckDone} runs;
   * without one the connection's teardown ends the stream and disposes its channel.
   */
  boolean channelClosedEarly(WebRtcMuxedStream s, RTCDataChannelState state) {
    if (tearingDown.get() || !isOpen()) {
      return false;
    }
    // When the peer connection goes away the stream channels may close just before the control channel;
    // give the control channel's closure a moment to arrive before blaming the stream.
    try {
      transport.scheduler().schedule(() -> serial.execute(() -> s.closedEarlyCheckDone(state,
          !tearingDown.get() && isOpen() && controlState() == RTCDataChannelState.OPEN)), 250, TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: the transport is closing; the stream ends with it", this);
      return false;
    }
  }

  // ---------------------------------------------------------------- closing

  @Override
  protected void doClose() {
    transport.ioPool().execute(() -> {
      try {
        flushAndCloseControl();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc: graceful close of " + this + " failed; tearing down", e);
      }
      teardown(null, false, true);
    });
  }

  @Override
  protected void doAbort(Throwable cause) {
    teardown(cause, false, false);
  }

  /** Waits (bounded) for every channel to drain, then closes the control channel and waits for it to close. */
  private void flushAndCloseControl() {
    long deadline = System.nanoTime() + Math.min(TimeUnit.SECONDS.toNanos(3), options().connectTimeout().toNanos());
    while (System.nanoTime() < deadline && !tearingDown.get()) {
      long buffered = 0;
      for (WebRtcMuxedStream s : new ArrayList<>(channels)) {
        buffered += s.unsentBytes();
      }
      if (buffered == 0) {
        break;
      }
      sleepBriefly();
    }
    if (!established.isDone() || established.isCompletedExceptionally()) {
      return;
    }
    CompletableFuture<Void> closing = new CompletableFuture<>();
    transport.onSignaling(() -> {
      synchronized (controlLock) {
        if (control != null && !controlDisposed) {
          control.close();
        }
      }
      closing.complete(null);
    }, closing);
    try {
      closing.get(1, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.log(System.Logger.Level.DEBUG, "webrtc: closing the control channel of {0}: {1}", this, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    while (System.nanoTime() < deadline && !tearingDown.get() && controlState() != RTCDataChannelState.CLOSED) {
      sleepBriefly();
    }
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while closing", e);
    }
  }

  /** Closes and disposes every native object exactly once, then ends the connection. */
  void teardown(Throwable cause, boolean remote, boolean graceful) {
    if (!tearingDown.compareAndSet(false, true)) {
      return;
    }
    stopLiveness();
    LOG.log(System.Logger.Level.DEBUG, "{0}: tearing down ({1})", this,
        cause != null ? cause : graceful ? "closed" : remote ? "closed by the peer" : "aborted");
    established.completeExceptionally(cause != null ? cause
        : new ConnectionFailedException("webrtc: the connection ended during the handshake", null));
    Runnable nativeTeardown = () -> {
      for (WebRtcMuxedStream s : new ArrayList<>(channels)) {
        s.disposeChannelNow();
      }
      channels.clear();
      synchronized (controlLock) {
        if (control != null && !controlDisposed) {
          controlDisposed = true;
          try {
            control.unregisterObserver();
            controlObserver.detach(); // webrtc-java never frees it: it must not keep this connection
            control.close();
            control.dispose();
          } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "webrtc: disposing the control channel of " + this + " failed", e);
          }
        }
      }
      RTCPeerConnection p = pc;
      if (p != null) {
        try {
          p.close();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "webrtc: closing the peer connection of " + this + " failed", e);
        }
      }
    };
    CompletableFuture<Void> done = new CompletableFuture<>();
    transport.onSignaling(() -> {
      try {
        nativeTeardown.run();
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
