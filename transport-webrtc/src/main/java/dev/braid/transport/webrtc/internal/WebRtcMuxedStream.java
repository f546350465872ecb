package dev.braid.transport.webrtc.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link MuxedStream} carried by one ordered, reliable {@link RTCDataChannel} (negotiated in-band,
 * empty label), with half-close by the libp2p WebRTC message framing: every data channel message holds
 * {@code uvarint(length) || Message{flag, message, errorCode}} records of at most 16 KiB. Sending is
 * {@link StreamSender}'s (backpressure, batching), receiving {@link FrameReceiver}'s (limits).
 *
 * <p><b>State mapping.</b> How the data channel's state and the framing flags move the stream through
 * {@link StreamState}:
 * <table>
 * <caption>RTCDataChannel and framing → StreamState</caption>
 * <tr><th>native state / event</th><th>StreamState</th></tr>
 * <tr><td>{@code createDataChannel} returned, channel {@code CONNECTING} (or peer's channel announced by
 *     {@code onDataChannel} before it is {@code OPEN})</td><td>OPENING (writes queue, reads wait)</td></tr>
 * <tr><td>channel {@code OPEN} (or a first message arrived, which proves it)</td><td>OPEN (an inbound stream is
 *     only handed to the application now)</td></tr>
 * <tr><td>an inbound channel we refuse (over {@code maxStreams}, accept backlog full, not ordered and reliable,
 *     connection closing): we send {@code RESET_STREAM} with the reserved code
 *     {@link StreamResetException#REFUSED}</td><td>RESET (never handed to the application)</td></tr>
 * <tr><td>received {@code RESET_STREAM} with {@link StreamResetException#REFUSED}</td><td>RESET: reads and
 *     writes fail with {@link dev.braid.StreamRefusedException} (remote)</td></tr>
 * <tr><td>received {@code FIN} (we answer {@code FIN_ACK})</td><td>READ_CLOSED (buffered bytes stay readable, then EOF)</td></tr>
 * <tr><td>{@code closeRead()}: sent {@code STOP_SENDING} (unless {@code FIN} already arrived)</td><td>READ_CLOSED</td></tr>
 * <tr><td>{@code closeWrite()}: sent {@code FIN} after every queued byte</td><td>WRITE_CLOSED</td></tr>
 * <tr><td>received {@code STOP_SENDING}: pending writes fail, we send {@code FIN} (no RESET_STREAM, as the
 *     spec asks)</td><td>WRITE_CLOSED</td></tr>
 * <tr><td>both directions ended as above</td><td>CLOSED (the channel itself is closed only once {@code FIN}
 *     and {@code FIN_ACK} went both ways, so no byte is lost)</td></tr>
 * <tr><td>{@code reset(code)}: sent {@code RESET_STREAM} with {@code errorCode}; or received it</td><td>RESET
 *     (code carried in field 3, {@code errorCode}, a protobuf {@code uint32}); the receiver of RESET_STREAM
 *     closes the channel, its sender only if the receiver has not within a second</td></tr>
 * <tr><td>malformed record, unknown flag, text message, data after {@code FIN}, unread data over the
 *     receive limit; or a local failure while the connection lives</td><td>FAILED (a {@link ProtocolException}
 *     for the peer's faults); the peer gets {@code RESET_STREAM} with the reserved code
 *     {@link StreamResetException#INTERNAL_ERROR}; the connection is untouched</td></tr>
 * <tr><td>channel {@code CLOSING}/{@code CLOSED} before the stream ended (peer closed the channel without
 *     framing)</td><td>FAILED</td></tr>
 * <tr><td>the peer connection closed, failed or was aborted</td><td>FAILED ({@code ConnectionClosedException}
 *     after a graceful close)</td></tr>
 * </table>
 *
 * <p><b>End of life.</b> The data channel is closed once the stream is finished on the wire ({@link #onFinished()})
 * and the framing allows it: at once after a RESET_STREAM from the peer; once FIN and FIN_ACK went both ways; a second
 * after our own RESET_STREAM, unless the peer closed it first (see {@link DataChannels#closeAfterReset}).
 * Once CLOSED, the channel is disposed and the connection forgets it. SCTP stream ids are reused by libwebrtc only
 * after a channel closed here, and a stream's id is Braid's own per-connection counter, so a reused SCTP id always
 * belongs to a new stream with a new id. (The peer may still hold the id for a moment, and then drops the new
 * channel: a libwebrtc race described in the module README, "Known limits".)
 *
 * <p><b>Thread safety.</b> Thread-safe. Every native callback only copies its data and hands it to the
 * connection's serial executor; inbound records and channel state changes are processed there in order.
 */
final class WebRtcMuxedStream extends AbstractMuxedStream implements ChannelObserver.Target {
  private static final System.Logger LOG = System.getLogger(WebRtcMuxedStream.class.getName());

  private final WebRtcConnection connection;
  private final StreamSender sender;
  private final FrameReceiver receiver;
  private final CompletableFuture<MuxedStream> openFuture;

  // confined to the connection's serial executor
  private boolean channelOpen;
  private boolean channelGone;
  private boolean channelClosed;
  private boolean closedEarlyCheck; // the grace period after an early closure runs: disposal waits for it
  private boolean finished;
  private boolean resetCloseScheduled;

  WebRtcMuxedStream(WebRtcConnection connection, long id, boolean locallyInitiated, RTCDataChannel channel,
      StreamStateListener listener, BufferedAmountPoller poller, int maxReceiveBuffer, long receiveWindow,
      long peerWindow) {
    super(connection, id, locallyInitiated, true, listener);
    this.connection = connection;
    this.sender = new StreamSender(this, channel, poller, connection.serial(), receiveWindow, peerWindow);
    this.receiver = new FrameReceiver(this, sender, maxReceiveBuffer);
    this.openFuture = locallyInitiated ? new CompletableFuture<>() : null;
  }

  /** Completes once a locally opened stream is OPEN; fails if it ends first. */
  CompletableFuture<MuxedStream> openFuture() {
    return openFuture;
  }

  // ---------------------------------------------------------------- outbound (AbstractMuxedStream hooks)

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    return sender.transmit(data);
  }

  @Override
  protected void transmitFin() {
    sender.sendFin();
  }

  @Override
  protected void transmitStopSending(long code) {
    sender.sendStopSending(code);
  }

  @Override
  protected void transmitReset(long code) {
    sender.reset(code);
  }

  @Override
  protected void consumed(int bytes) {
    sender.consumed(bytes);
  }

  @Override
  protected void onTerminated(StreamState finalState) {
    if (finalState != StreamState.CLOSED) {
      sender.abandon(); // after a reset or failure, what was not handed over yet is abandoned
    }
    if (openFuture != null && !openFuture.isDone()) {
      ConnectionFailedException cause = connection.endCauseOrNull();
      openFuture.completeExceptionally(cause != null ? cause
          : new ConnectionFailedException("webrtc: stream " + this + " ended (" + finalState + ") before it opened", null));
    }
  }

  @Override
  protected void onFinished() {
    connection.serial().execute(() -> {
      finished = true;
      maybeCloseChannel();
    });
  }

  // ---------------------------------------------------------------- native callbacks (libwebrtc's thread)

  @Override
  public void channelStateChanged() {
    connection.serial().execute(this::onChannelStateChange);
  }

  @Override
  public void channelMessage(RTCDataChannelBuffer buffer) {
    connection.markReceived(); // any message counts for the idle timeout
    // The buffer points into native memory that is freed after this callback: copy now.
    ByteBuffer data = buffer.data;
    byte[] copy = new byte[data.remaining()];
    data.get(copy);
    boolean binary = buffer.binary;
    connection.serial().execute(() -> receiver.onMessage(copy, binary));
  }

  // ---------------------------------------------------------------- the channel's life (serial executor)

  /**
   * Reacts to the channel's current state; also called once right after the observer is registered.
   *
   * <p>The state read here is the channel's live state, which runs ahead of the callbacks: libwebrtc posts
   * {@code onMessage} and {@code onStateChange} to its signaling thread in order, but a state change task may run
   * while messages received before the closure are still queued there or here (a peer that sends RESET_STREAM and
   * closes the channel at once). So a CLOSING or CLOSED channel does not drop later messages, the first message marks
   * the channel open if its OPEN was skipped, and a channel that closed under a live stream is disposed (unregistering
   * the observer, which cancels callbacks still queued) only after the grace period of
   * {@link DataChannels#closedEarly}, once those messages had their turn.
   */
  void onChannelStateChange() {
    RTCDataChannelState s = sender.state();
    if (s == RTCDataChannelState.OPEN) {
      markOpen();
    } else if (s == RTCDataChannelState.CLOSING || s == RTCDataChannelState.CLOSED) {
      channelGone(s);
    }
  }

  /** The channel is (or was) open: the stream opens, or its early reset goes out. Idempotent. */
  void markOpen() {
    if (channelOpen) {
      return;
    }
    channelOpen = true;
    if (sender.disposed()) {
      return;
    }
    long early = sender.takeEarlyReset();
    if (early >= 0) {
      sender.reset(early);
      maybeCloseChannel();
      return;
    }
    if (state().isTerminal()) {
      return; // reset or refused before its channel opened: never handed to the application
    }
    opened();
    if (openFuture != null) {
      openFuture.complete(this);
    } else if (!connection.deliver(this)) {
      refuse("webrtc: inbound stream " + this + " refused: the accept backlog is full or the connection is closing");
    }
  }

  private void channelGone(RTCDataChannelState s) {
    if (!channelGone) {
      channelGone = true;
      if (!state().isTerminal() && !receiver.resetReceived()) {
        closedEarlyCheck = connection.channels().closedEarly(this, s);
      }
    }
    if (s == RTCDataChannelState.CLOSED) {
      channelClosed = true;
      if (!closedEarlyCheck) {
        release();
      }
    }
  }

  /**
   * The grace period after the channel closed under a live stream ended: the stream fails unless a RESET_STREAM or the
   * end of the framing arrived meanwhile ({@code blame}: the connection itself is still fine), and the channel is
   * disposed once it is CLOSED.
   */
  void closedEarlyCheckDone(RTCDataChannelState s, boolean blame) {
    closedEarlyCheck = false;
    if (blame && !state().isTerminal()) {
      fail(new ConnectionFailedException("webrtc: the data channel of stream " + this + " went " + s
          + " before the stream ended (the peer closed it without FIN/RESET_STREAM)", null));
    }
    if (!channelClosed) {
      RTCDataChannelState now = sender.state();
      channelClosed = now == null || now == RTCDataChannelState.CLOSED;
    }
    if (channelClosed) {
      release(); // otherwise its CLOSED state change does it
    }
  }

  /**
   * The channel is CLOSED: it is disposed. A terminal stream that is not finished yet (a CLOSED one still waiting for
   * the peer's FIN, say) never will be through this channel: it is finished now (its state stays; writes it still
   * flushed fail), not after the linger bound. While the connection ends, its end does that.
   */
  private void release() {
    if (!finished && state().isTerminal() && connection.isOpen()) {
      fail(new ConnectionFailedException("webrtc: the data channel of stream " + this + " closed before the stream "
          + "finished", null));
    }
    connection.channels().disposeLater(this);
  }

  /**
   * Once the stream is finished, closes the channel as far as the framing allows: at once after the peer's
   * RESET_STREAM or once FIN and FIN_ACK went both ways (so no byte is lost), after a grace period after our own
   * RESET_STREAM (the peer closes it when it reads that; see {@link DataChannels#closeAfterReset}).
   */
  void maybeCloseChannel() {
    if (!finished || sender.closing()) {
      return;
    }
    if (receiver.resetReceived() || (sender.finSent() && receiver.finReceived() && receiver.finAckReceived())) {
      connection.channels().requestClose(this);
    } else if (sender.resetSent() && !resetCloseScheduled) {
      resetCloseScheduled = true;
      connection.channels().closeAfterReset(this);
    }
  }

  // ---------------------------------------------------------------- what the receiver found (serial executor)

  void dataArrived(ByteBuffer data) {
    receive(data);
  }

  int unreadBytes() {
    return bufferedInboundBytes();
  }

  void finArrived() {
    receiveFin();
  }

  void stopSendingArrived(long code) {
    receiveStopSending(code);
  }

  void resetArrived(long code) {
    receiveReset(code);
  }

  /**
   * The peer broke the framing or a limit: the stream fails, and the peer gets RESET_STREAM with
   * {@link StreamResetException#INTERNAL_ERROR}. It is sent here, before the failure, because the base class resets
   * only a stream that fails, not one that is terminal already (a CLOSED stream whose peer sends data after its FIN).
   */
  void protocolError(String what) {
    ProtocolException e = new ProtocolException("webrtc: stream " + this + ": " + what);
    LOG.log(System.Logger.Level.DEBUG, "{0}", e.getMessage());
    sender.reset(StreamResetException.INTERNAL_ERROR);
    fail(e);
    maybeCloseChannel();
  }

  // ---------------------------------------------------------------- for the connection

  /**
   * Refuses this stream (an inbound one over the limit, unusable, or arriving while the connection closes; or a
   * local one that lost a race with the limit): it ends RESET, and the peer gets RESET_STREAM with the reserved
   * code {@link StreamResetException#REFUSED} (once the channel is open, if it is not yet).
   */
  void refuseStream(String why) {
    refuse(why);
  }

  /** Signaling executor. */
  void registerObserverNow() {
    sender.registerObserver(this);
  }

  /** Closes the channel (libwebrtc flushes queued messages first). Signaling executor. */
  void closeChannelNow() {
    sender.close();
  }

  /** Unregisters the observer and frees the native channel; returns whether this call did it (once). Signaling executor. */
  boolean disposeChannelNow() {
    return sender.dispose();
  }

  /** Bytes not yet delivered to SCTP; 0 once the channel is closing. */
  long unsentBytes() {
    return sender.unsentBytes();
  }
}
