package dev.braid.transport.webrtc.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamStateListener;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A connection's stream channels: creating a data channel for each stream we open, taking in (or refusing) the
 * channels the peer opens, and closing and disposing each one once. A channel stays here from its creation until it
 * is disposed, so the connection's teardown and graceful close see every channel still on the wire, including those
 * of streams that finished but wait for the peer's FIN_ACK.
 *
 * <p>libwebrtc allocates SCTP stream ids 0..1023 only, split by parity between the two sides, and webrtc-java 0.14.0
 * crashes the JVM when {@code createDataChannel} fails: so at most {@value WebRtcConnection#MAX_LOCAL_CHANNELS} data
 * channels of ours exist at once (id 0 is the control channel), counted until each is disposed. More opens are refused.
 *
 * <p><b>Thread safety.</b> Thread-safe. Native calls run on the transport's signaling executor; the streams' channel
 * events on the connection's serial executor.
 */
final class DataChannels {
  private static final System.Logger LOG = System.getLogger(DataChannels.class.getName());

  private final WebRtcConnection connection;
  private final WebRtcTransport transport;
  private final AtomicLong nextStreamId = new AtomicLong();
  private final AtomicInteger local = new AtomicInteger();
  private final Set<WebRtcMuxedStream> channels = ConcurrentHashMap.newKeySet();

  DataChannels(WebRtcConnection connection, WebRtcTransport transport) {
    this.connection = connection;
    this.transport = transport;
  }

  /** Opens a stream on a new data channel of ours; the future completes once it is OPEN. */
  CompletableFuture<MuxedStream> open(StreamStateListener listener) {
    CompletableFuture<MuxedStream> result = new CompletableFuture<>();
    connection.signal(result, () -> {
      if (local.get() >= WebRtcConnection.MAX_LOCAL_CHANNELS) {
        result.completeExceptionally(new StreamRefusedException("webrtc: " + WebRtcConnection.MAX_LOCAL_CHANNELS
            + " data channels of this side are open or still closing; libwebrtc allows no more (SCTP stream ids "
            + "0..1023, split between the sides)"));
        return;
      }
      if (connection.handshake().closed()) {
        result.completeExceptionally(new ConnectionFailedException("webrtc: the peer connection is closed", null));
        return;
      }
      if (connection.limitReached()) {
        // Refused before a native channel exists: a refused channel's SCTP id stays taken until libwebrtc's
        // close handshake with the peer ends, so a flood of refused opens could exhaust the ids.
        result.completeExceptionally(refusal());
        return;
      }
      local.incrementAndGet();
      RTCDataChannel ch;
      try {
        ch = NativePeer.createChannel(connection.handshake().pc(), "", -1);
      } catch (RuntimeException e) {
        local.decrementAndGet();
        throw e;
      }
      WebRtcMuxedStream s = newStream(true, ch, listener);
      channels.add(s);
      if (!connection.register(s)) {
        dispose(s);
        s.refuseStream("stream limit reached (maxStreams=" + connection.options().maxStreams() + ")");
        result.completeExceptionally(refusal());
        return;
      }
      s.registerObserverNow();
      connection.serial().execute(s::onChannelStateChange);
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

  private IOException refusal() {
    ConnectionFailedException end = connection.endCauseOrNull();
    return end != null ? end
        : new StreamRefusedException("stream limit reached (maxStreams=" + connection.options().maxStreams() + ")");
  }

  private WebRtcMuxedStream newStream(boolean locallyOpened, RTCDataChannel ch, StreamStateListener listener) {
    return new WebRtcMuxedStream(connection, nextStreamId.getAndIncrement(), locallyOpened, ch, listener,
        transport.poller(), transport.maxReceiveBuffer(), connection.options().receiveWindow(), connection.peerWindow());
  }

  /** Serial executor: the peer opened a data channel. */
  void onRemoteChannel(RTCDataChannel ch) {
    if (connection.isTearingDown()) {
      transport.onSignaling(() -> NativePeer.release(ch, false, false), null);
      return;
    }
    // A Braid stream is a reliable, ordered byte stream: a partially reliable or unordered channel
    // cannot carry one, so it is refused (reset) rather than silently losing or reordering bytes.
    // (Asked before the channel is registered: nothing can dispose it yet.)
    boolean usable = ch.isOrdered() && ch.isReliable(); // webrtc-java reports maxRetransmits 0 for reliable channels
    WebRtcMuxedStream s = newStream(false, ch, null);
    channels.add(s);
    if (connection.isTearingDown()) {
      // The teardown may have disposed the registered channels already: this one goes the same way.
      disposeLater(s);
      s.refuseStream("webrtc: inbound stream " + s + " refused: the connection is closing");
      return;
    }
    if (!usable) {
      LOG.log(System.Logger.Level.WARNING, "{0}: refusing a data channel that is not ordered and reliable (ordered={1}, "
          + "reliable={2})", connection, ch.isOrdered(), ch.isReliable());
    }
    boolean accepted = usable && connection.register(s);
    transport.onSignaling(() -> {
      s.registerObserverNow();
      connection.serial().execute(s::onChannelStateChange);
    }, null);
    if (!accepted) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: refusing an inbound stream (unusable channel, limit or closing)",
          connection);
      s.refuseStream("webrtc: inbound stream " + s + " refused: " + (!usable ? "its data channel is not ordered and "
          + "reliable" : "the stream limit (maxStreams=" + connection.options().maxStreams() + ") is reached or the "
          + "connection is closing"));
    }
  }

  /** Closes {@code s}'s channel (on the signaling executor). */
  void requestClose(WebRtcMuxedStream s) {
    transport.onSignaling(s::closeChannelNow, null);
  }

  /**
   * We sent RESET_STREAM on {@code s}: the peer closes the channel when it reads it (so do we, when we read one);
   * we close it ourselves only if the peer has not within {@value WebRtcConnection#RESET_CLOSE_GRACE_MILLIS} ms.
   * Closing at once would lose the RESET_STREAM when the peer's channel is that young: libwebrtc drops the messages a
   * channel received while it had no observer yet (the opener registers its observer when {@code createDataChannel}
   * returns) once the channel closes, so a refused opener would see its channel close without the refusal.
   */
  void closeAfterReset(WebRtcMuxedStream s) {
    try {
      transport.scheduler().schedule(() -> requestClose(s), WebRtcConnection.RESET_CLOSE_GRACE_MILLIS,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: the transport is closing; closing the channel of {1} now", connection, s);
      requestClose(s);
    }
  }

  /** Disposes {@code s}'s channel (on the signaling executor) and forgets it. */
  void disposeLater(WebRtcMuxedStream s) {
    transport.onSignaling(() -> dispose(s), null);
  }

  /** Signaling executor. */
  private void dispose(WebRtcMuxedStream s) {
    if (s.disposeChannelNow() && s.isLocallyInitiated()) {
      local.decrementAndGet(); // its SCTP stream id is free again
    }
    channels.remove(s);
  }

  /** Signaling executor: disposes every channel (the connection's teardown). */
  void disposeAll() {
    for (WebRtcMuxedStream s : new ArrayList<>(channels)) {
      dispose(s);
    }
  }

  /**
   * A stream's channel closed before the stream ended: a connection teardown in progress, or a peer's abort (or
   * messages received before the closure are still on their way: see {@link WebRtcMuxedStream#onChannelStateChange}).
   * Returns whether a grace period was started, after which {@link WebRtcMuxedStream#closedEarlyCheckDone} runs;
   * without one the connection's teardown ends the stream and disposes its channel.
   */
  boolean closedEarly(WebRtcMuxedStream s, RTCDataChannelState state) {
    if (connection.isTearingDown() || !connection.isOpen()) {
      return false;
    }
    // When the peer connection goes away the stream channels may close just before the control channel;
    // give the control channel's closure a moment to arrive before blaming the stream.
    try {
      transport.scheduler().schedule(() -> connection.serial().execute(() -> s.closedEarlyCheckDone(state,
          !connection.isTearingDown() && connection.isOpen()
              && connection.control().state() == RTCDataChannelState.OPEN)),
          WebRtcConnection.CLOSED_EARLY_GRACE_MILLIS, TimeUnit.MILLISECONDS);
      return true;
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: the transport is closing; the stream ends with it", connection);
      return false;
    }
  }

  /** Bytes not yet delivered to SCTP on every channel. */
  long unsentBytes() {
    long unsent = 0;
    for (WebRtcMuxedStream s : new ArrayList<>(channels)) {
      unsent += s.unsentBytes();
    }
    return unsent;
  }
}
