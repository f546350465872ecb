package dev.braid.transport.webrtc;

import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import dev.braid.transport.webrtc.internal.BufferedAmountPoller;
import dev.braid.transport.webrtc.internal.WebRtcFraming;
import dev.braid.transport.webrtc.internal.WebRtcFraming.Frame;
import dev.braid.transport.webrtc.internal.WebRtcFraming.FramingException;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link MuxedStream} carried by one ordered, reliable {@link RTCDataChannel} (negotiated in-band,
 * empty label), with half-close by the libp2p WebRTC message framing: every data channel message holds
 * {@code uvarint(length) || Message{flag, message, errorCode}} records of at most 16 KiB.
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
 * <p><b>Backpressure.</b> A write completes once its records are handed to the channel and the channel's
 * buffered amount is at or below {@value #LOW_WATER} bytes; the writer stops handing over records above
 * {@value #HIGH_WATER} bytes (libwebrtc silently closes a channel with more than 16 MiB buffered). The
 * buffered amount is polled on the transport's one shared scheduler, because webrtc-java 0.14.0 never
 * fires {@code onBufferedAmountChange}. A write that waits for the Braid peer's credit is parked, not
 * polled, until a window update resumes it. A poll or window update that comes after the stream stopped
 * being writable (reset, STOP_SENDING, failure) finds no pending write and does nothing.
 *
 * <p><b>Batching.</b> Records are packed into as few data channel messages (of at most 16 KiB) as their order
 * allows: while a received message is processed, what the stream sends (a {@code FIN_ACK}, a window update, and
 * whatever the application answers synchronously) waits and goes out together at the end; a write's last
 * record waits until the connection's executor gets to the stream (a thread hop) for what the caller sends right
 * after the write completes, typically {@code closeWrite()}'s {@code FIN}, which sends at once. Fewer messages
 * cost less on the wire, and webrtc-java 0.14.0 leaks two JNI local references (88 bytes of heap, until its
 * factory is disposed) for every message a peer receives: an echoed stream costs 3 to 4 messages instead of 6.
 *
 * <p><b>Receiving.</b> Data channels have no per-stream flow control that an application can drive:
 * SCTP delivers whatever the peer sends. Unread bytes are therefore capped per stream
 * ({@code maxReceiveBuffer} property, default {@value WebRtcTransport#DEFAULT_MAX_RECEIVE_BUFFER} bytes);
 * a peer that exceeds the cap has its stream failed and reset, it is never obeyed.
 *
 * <p><b>Thread safety.</b> Thread-safe. Every native callback only copies its data and hands it to the
 * connection's serial executor; inbound records are processed there in order. All native sends on the
 * channel (data, flags) and its disposal happen under {@code sendLock}, which no native callback ever
 * takes, so a send never races the channel's disposal.
 */
public final class WebRtcMuxedStream extends AbstractMuxedStream {
  private static final System.Logger LOG = System.getLogger(WebRtcMuxedStream.class.getName());

  static final long LOW_WATER = 256 * 1024;
  static final long HIGH_WATER = 1024 * 1024;

  private final WebRtcConnection connection;
  private final RTCDataChannel channel;
  private final BufferedAmountPoller poller;
  private final int maxReceiveBuffer;
  private final long receiveWindow; // -1: the peer does not speak Braid's flow control
  private final CompletableFuture<MuxedStream> openFuture;

  private final Object sendLock = new Object();
  // guarded by sendLock
  private Transmission pending;
  private boolean finSent;
  private boolean resetSent;
  private long resetBeforeOpen = -1;
  private boolean closeRequested;
  private boolean disposed;
  private ChannelObserver observer;
  // Batching (see "Batching" above): while corks > 0, records are held in outbox (at most 16 KiB, one message).
  private int corks;
  private boolean lingering; // a write's records wait for a FIN (or more) to share their message
  private long lingerGeneration;
  private List<byte[]> outbox;
  private int outboxBytes;
  private long sendCredit;
  private long unacknowledged;
  private long granted;

  // confined to the connection's serial executor
  private boolean channelOpen;
  private boolean finReceived;
  private boolean finAckReceived;
  private boolean resetReceived;
  private boolean channelGone;
  private boolean channelClosed;
  private boolean closedEarlyCheck; // the grace period after an early closure runs: disposal waits for it
  private long received;

  WebRtcMuxedStream(WebRtcConnection connection, long id, boolean locallyInitiated, RTCDataChannel channel,
      StreamStateListener listener, BufferedAmountPoller poller, int maxReceiveBuffer, long receiveWindow,
      long peerWindow) {
    super(connection, id, locallyInitiated, true, listener);
    this.connection = connection;
    this.channel = channel;
    this.poller = poller;
    this.maxReceiveBuffer = maxReceiveBuffer;
    boolean flowControl = receiveWindow > 0 && peerWindow > 0;
    this.receiveWindow = flowControl ? receiveWindow : -1;
    this.sendCredit = flowControl ? peerWindow : Long.MAX_VALUE;
    this.granted = flowControl ? receiveWindow : Long.MAX_VALUE;
    this.openFuture = locallyInitiated ? new CompletableFuture<>() : null;
  }

  /** Completes once a locally opened stream is OPEN; fails if it ends first. */
  CompletableFuture<MuxedStream> openFuture() {
    return openFuture;
  }

  /**
   * The observer registered on the channel with native code. webrtc-java 0.14.0's {@code unregisterObserver()}
   * only detaches its native observer from the channel and never frees it, so the JNI global reference that
   * native observer holds keeps this object reachable for the life of the process: it therefore holds the
   * stream only until the channel is disposed ({@link #detach()}), so that an ended stream (its buffers,
   * listeners, futures and native channel handle) is never kept by it. What is left per channel is this
   * small object (and webrtc-java's native observer with its global references).
   */
  static final class ChannelObserver implements RTCDataChannelObserver {
    private volatile WebRtcMuxedStream stream;

    ChannelObserver(WebRtcMuxedStream stream) {
      this.stream = stream;
    }

    /** Forgets the stream: called once the channel is disposed, when no callback can come any more. */
    void detach() {
      stream = null;
    }

    @Override
    public void onBufferedAmountChange(long previousAmount) {
      // Never fires in webrtc-java 0.14.0; the poller covers it.
    }

    @Override
    public void onStateChange() {
      WebRtcMuxedStream s = stream;
      if (s != null) {
        s.connection.serial().execute(s::onChannelStateChange);
      }
    }

    @Override
    public void onMessage(RTCDataChannelBuffer buffer) {
      WebRtcMuxedStream s = stream;
      if (s != null) {
        s.connection.markReceived(); // any message counts for the idle timeout
        // The buffer points into native memory that is freed after this callback: copy now.
        ByteBuffer data = buffer.data;
        byte[] copy = new byte[data.remaining()];
        data.get(copy);
        boolean binary = buffer.binary;
        s.connection.serial().execute(() -> s.onChannelMessage(copy, binary));
      }
    }
  }

  // ---------------------------------------------------------------- outbound (AbstractMuxedStream hooks)

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    Transmission t = new Transmission(data);
    long linger = 0;
    synchronized (sendLock) {
      if (finSent || resetSent || disposed) {
        return CompletableFuture.failedFuture(new IOException("webrtc: the stream's send side has ended"));
      }
      pending = t;
      if (!lingering) {
        // The write's last record waits, until the connection's executor gets to it, for what the caller sends
        // right after the write completes (typically its FIN: write(x) then closeWrite()), to share one message.
        lingering = true;
        corks++;
        linger = ++lingerGeneration;
      }
    }
    if (linger != 0) {
      long generation = linger;
      connection.serial().execute(() -> endLinger(generation));
    }
    drive(t);
    return t.future;
  }

  /** The linger started by a write ends: what it held goes out now. */
  private void endLinger(long generation) {
    synchronized (sendLock) {
      if (lingering && lingerGeneration == generation) {
        endLingerLocked();
      }
    }
  }

  private void endLingerLocked() {
    if (lingering) {
      lingering = false;
      uncorkLocked();
    }
  }

  private void uncorkLocked() {
    if (--corks == 0) {
      flushLocked();
    }
  }

  /**
   * Drives {@code t} until it is done: polled while it waits for the channel's buffer to drain; parked
   * (no polling) while it waits for the peer's credit, until a window update resumes it.
   */
  private void drive(Transmission t) {
    if (pump(t) == Progress.WAIT_BUFFER) {
      poller.register(() -> pump(t) != Progress.WAIT_BUFFER);
    }
  }

  private enum Progress { DONE, WAIT_BUFFER, WAIT_CREDIT }

  /** Hands records of {@code t} to the channel, as far as buffer and credit allow. */
  private Progress pump(Transmission t) {
    boolean complete = false;
    IOException failure = null;
    synchronized (sendLock) {
      if (pending != t) {
        return Progress.DONE; // abandoned (reset, STOP_SENDING, failure): the drain event is ignored
      }
      if (disposed || resetSent || finSent) {
        pending = null;
        return Progress.DONE;
      }
      try {
        long buffered = channel.getBufferedAmount() + outboxBytes;
        while (t.data.hasRemaining() && buffered < HIGH_WATER && sendCredit > 0) {
          int n = (int) Math.min(Math.min(t.data.remaining(), WebRtcFraming.MAX_PAYLOAD), sendCredit);
          byte[] record = WebRtcFraming.encodeData(t.data, n);
          sendLocked(record);
          sendCredit -= n;
          buffered += record.length;
        }
        if (!t.data.hasRemaining() && buffered <= LOW_WATER) {
          pending = null;
          complete = true;
        } else if (t.data.hasRemaining() && sendCredit <= 0) {
          t.waitingForCredit = true; // a window update resumes it (see onFrame)
          return Progress.WAIT_CREDIT;
        }
      } catch (IOException e) {
        pending = null;
        failure = e;
      }
    }
    if (failure != null) {
      t.future.completeExceptionally(failure);
      return Progress.DONE;
    }
    if (complete) {
      t.future.complete(null);
      return Progress.DONE;
    }
    return Progress.WAIT_BUFFER;
  }

  @Override
  protected void transmitFin() {
    synchronized (sendLock) {
      if (finSent || resetSent || disposed) {
        return;
      }
      finSent = true;
      sendFlagLocked(WebRtcFraming.FIN, WebRtcFraming.NO_CODE);
      endLingerLocked(); // nothing more follows: the held records and the FIN go out now, in one message
    }
    connection.serial().execute(this::maybeCloseChannel);
  }

  @Override
  protected void transmitStopSending(long code) {
    synchronized (sendLock) {
      if (resetSent || disposed) {
        return;
      }
      sendFlagLocked(WebRtcFraming.STOP_SENDING, code);
      endLingerLocked();
    }
  }

  @Override
  protected void transmitReset(long code) {
    synchronized (sendLock) {
      pending = null;
      if (resetSent || disposed) {
        return;
      }
      if (!isChannelOpenLocked()) {
        resetBeforeOpen = code; // sent once the channel opens
        return;
      }
      resetSent = true;
      sendFlagLocked(WebRtcFraming.RESET_STREAM, code);
      endLingerLocked();
    }
    connection.closeChannelAfterReset(this);
  }

  @Override
  protected void consumed(int bytes) {
    if (receiveWindow < 0) {
      return;
    }
    synchronized (sendLock) {
      unacknowledged += bytes;
      if (unacknowledged < Math.max(receiveWindow / 4, 1) || resetSent || disposed || closeRequested) {
        return;
      }
      long grant = unacknowledged;
      unacknowledged = 0;
      granted += grant;
      try {
        sendLocked(WebRtcFraming.encodeWindowUpdate(grant));
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send a window update on {0}: {1}", this, e.getMessage());
      }
    }
  }

  @Override
  protected void onTerminated(StreamState finalState) {
    if (finalState != StreamState.CLOSED) {
      synchronized (sendLock) {
        pending = null; // after a reset or failure, what was not handed over yet is abandoned
      }
    }
    if (openFuture != null && !openFuture.isDone()) {
      ConnectionFailedException cause = connection.endCauseOrNull();
      openFuture.completeExceptionally(cause != null ? cause
          : new ConnectionFailedException("webrtc: stream " + this + " ended (" + finalState + ") before it opened", null));
    }
    if (finalState == StreamState.FAILED && connection.isOpen()) {
      // A local failure (protocol error, send failure) while the connection lives: tell the peer.
      resetOnWire(StreamResetException.INTERNAL_ERROR);
    }
    connection.serial().execute(this::maybeCloseChannel);
  }

  // ---------------------------------------------------------------- inbound (serial executor)

  /**
   * Reacts to the channel's current state; also called once right after the observer is registered.
   *
   * <p>The state read here is the channel's live state, which runs ahead of the callbacks: libwebrtc posts
   * {@code onMessage} and {@code onStateChange} to its signaling thread in order, but a state change task may run
   * while messages received before the closure are still queued there or here (a peer that sends RESET_STREAM and
   * closes the channel at once, as Braid itself did before it left the closing to the receiver). So a CLOSING or
   * CLOSED channel does not drop later messages,
   * the first message marks the channel open if its OPEN was skipped, and a channel that closed under a live stream
   * is disposed (unregistering the observer, which cancels callbacks still queued) only after the grace period of
   * {@link WebRtcConnection#channelClosedEarly}, once those messages had their turn.
   */
  void onChannelStateChange() {
    RTCDataChannelState s;
    synchronized (sendLock) {
      if (disposed) {
        return;
      }
      s = channel.getState();
    }
    if (s == RTCDataChannelState.OPEN) {
      markOpen();
    } else if (s == RTCDataChannelState.CLOSING || s == RTCDataChannelState.CLOSED) {
      channelGone(s);
    }
  }

  /** The channel is (or was) open: the stream opens, or its early reset goes out. Serial executor; idempotent. */
  private void markOpen() {
    if (channelOpen) {
      return;
    }
    channelOpen = true;
    long early;
    synchronized (sendLock) {
      if (disposed) {
        return;
      }
      early = resetBeforeOpen;
    }
    if (early >= 0) {
      resetOnWire(early);
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
      if (!state().isTerminal() && !resetReceived) {
        closedEarlyCheck = connection.channelClosedEarly(this, s);
      }
    }
    if (s == RTCDataChannelState.CLOSED) {
      channelClosed = true;
      if (!closedEarlyCheck) {
        connection.disposeChannel(this);
      }
    }
  }

  /**
   * The grace period after the channel closed under a live stream ended (serial executor): the stream fails unless
   * a RESET_STREAM or the end of the framing arrived meanwhile ({@code blame}: the connection itself is still fine),
   * and the channel is disposed once it is CLOSED.
   */
  void closedEarlyCheckDone(RTCDataChannelState s, boolean blame) {
    closedEarlyCheck = false;
    if (blame) {
      failChannelClosed(s);
    }
    if (!channelClosed) {
      RTCDataChannelState now;
      synchronized (sendLock) {
        now = disposed ? RTCDataChannelState.CLOSED : channel.getState();
      }
      channelClosed = now == RTCDataChannelState.CLOSED;
    }
    if (channelClosed) {
      connection.disposeChannel(this); // otherwise its CLOSED state change does it
    }
  }

  /**
   * Refuses this stream (an inbound one over the limit, unusable, or arriving while the connection closes; or a
   * local one that lost a race with the limit): it ends RESET, and the peer gets RESET_STREAM with the reserved
   * code {@link StreamResetException#REFUSED} (once the channel is open, if it is not yet).
   */
  void refuseStream(String why) {
    refuse(why);
  }

  /** Called by the connection when the channel closed under a live stream and the connection is still open. */
  void failChannelClosed(RTCDataChannelState s) {
    if (!state().isTerminal()) {
      fail(new ConnectionFailedException("webrtc: the data channel of stream " + this + " went " + s
          + " before the stream ended (the peer closed it without FIN/RESET_STREAM)", null));
    }
  }

  /**
   * Processes one received data channel message. Whatever this stream sends meanwhile (a FIN_ACK, a window update,
   * and what the application answers synchronously, e.g. an echo and its FIN) is held and then sent as few data
   * channel messages as the 16 KiB limit allows: fewer messages cost less, and webrtc-java 0.14.0 leaks two JNI
   * local references (88 bytes of heap) on its signaling thread for every message the peer receives.
   */
  void onChannelMessage(byte[] message, boolean binary) {
    if (resetReceived) {
      return;
    }
    markOpen(); // a message proves the channel opened, even if its state was first read once it was closing
    synchronized (sendLock) {
      corks++;
    }
    try {
      processChannelMessage(message, binary);
    } finally {
      synchronized (sendLock) {
        uncorkLocked();
      }
    }
  }

  private void processChannelMessage(byte[] message, boolean binary) {
    if (!binary) {
      protocolError("text message on a data channel (the framing is binary)");
      return;
    }
    List<Frame> frames;
    try {
      frames = WebRtcFraming.decodeAll(message);
    } catch (FramingException e) {
      protocolError(e.getMessage());
      return;
    }
    for (Frame f : frames) {
      if (!onFrame(f)) {
        return;
      }
    }
  }

  private boolean onFrame(Frame f) {
    if (f.windowUpdate() != WebRtcFraming.NO_CODE) {
      Transmission parked = null;
      synchronized (sendLock) {
        sendCredit += f.windowUpdate();
        if (pending != null && pending.waitingForCredit) {
          parked = pending;
          parked.waitingForCredit = false;
        }
      }
      if (parked != null) {
        drive(parked); // resume the write that waited for credit
      }
    }
    if (f.message() != null && f.message().length > 0) {
      if (finReceived) {
        protocolError("data after FIN");
        return false;
      }
      received += f.message().length;
      if (receiveWindow > 0) {
        long allowed;
        synchronized (sendLock) {
          allowed = granted;
        }
        if (received > allowed) {
          protocolError("the peer sent " + received + " bytes, over the " + allowed + " its flow-control window allows");
          return false;
        }
      }
      receive(ByteBuffer.wrap(f.message()));
      if (receiveWindow < 0 && bufferedInboundBytes() > maxReceiveBuffer) {
        protocolError("the peer sent more than " + maxReceiveBuffer + " unread bytes (maxReceiveBuffer); data channels "
            + "have no per-stream flow control, so the stream is reset");
        return false;
      }
    }
    long code = f.errorCode() == WebRtcFraming.NO_CODE ? 0 : f.errorCode();
    switch (f.flag()) {
      case WebRtcFraming.NO_FLAG:
        return true;
      case WebRtcFraming.FIN:
        if (!finReceived) {
          finReceived = true;
          receiveFin();
          synchronized (sendLock) {
            if (!resetSent && !disposed) {
              sendFlagLocked(WebRtcFraming.FIN_ACK, WebRtcFraming.NO_CODE);
            }
          }
          maybeCloseChannel();
        }
        return true;
      case WebRtcFraming.FIN_ACK:
        boolean sent;
        synchronized (sendLock) {
          sent = finSent;
        }
        if (!sent) {
          protocolError("FIN_ACK before we sent FIN");
          return false;
        }
        finAckReceived = true;
        maybeCloseChannel();
        return true;
      case WebRtcFraming.STOP_SENDING:
        receiveStopSending(code);
        synchronized (sendLock) {
          pending = null; // abandoned: the peer discards it anyway
          if (!finSent && !resetSent && !disposed) {
            finSent = true; // our send side ends with FIN, not RESET_STREAM (libp2p WebRTC spec)
            sendFlagLocked(WebRtcFraming.FIN, WebRtcFraming.NO_CODE);
          }
        }
        maybeCloseChannel();
        return true;
      case WebRtcFraming.RESET_STREAM:
        resetReceived = true;
        synchronized (sendLock) {
          pending = null;
        }
        receiveReset(code);
        connection.requestChannelClose(this);
        return false;
      default:
        protocolError("unknown flag " + f.flag());
        return false;
    }
  }

  private void protocolError(String what) {
    ProtocolException e = new ProtocolException("webrtc: stream " + this + ": " + what);
    LOG.log(System.Logger.Level.DEBUG, "{0}", e.getMessage());
    resetOnWire(StreamResetException.INTERNAL_ERROR);
    fail(e);
  }

  /** Sends RESET_STREAM (once), whatever the stream's state; the channel closes as {@link #transmitReset} says. */
  private void resetOnWire(long code) {
    synchronized (sendLock) {
      pending = null;
      if (resetSent || disposed) {
        return;
      }
      if (!isChannelOpenLocked()) {
        resetBeforeOpen = code;
        return;
      }
      resetSent = true;
      sendFlagLocked(WebRtcFraming.RESET_STREAM, code);
      endLingerLocked();
    }
    connection.closeChannelAfterReset(this);
  }

  /**
   * Closes the channel once FIN and FIN_ACK went both ways, or once the peer reset the stream. After a RESET_STREAM
   * of ours the peer closes it (see {@link WebRtcConnection#closeChannelAfterReset}).
   */
  void maybeCloseChannel() {
    boolean close;
    synchronized (sendLock) {
      close = !closeRequested && !disposed && (resetReceived || (finSent && finAckReceived && finReceived));
    }
    if (close) {
      connection.requestChannelClose(this);
    }
  }

  // ---------------------------------------------------------------- native access (connection's executors)

  /** Closes the channel (libwebrtc flushes queued messages first). Signaling executor. */
  void closeChannelNow() {
    synchronized (sendLock) {
      if (closeRequested || disposed) {
        return;
      }
      flushLocked(); // held records (a FIN_ACK, a RESET_STREAM) go out before the channel closes
      closeRequested = true;
      pending = null;
      try {
        channel.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc: closing the data channel of " + this + " failed", e);
      }
    }
  }

  /** Unregisters the observer and frees the native channel, exactly once. Signaling executor. */
  void disposeChannelNow() {
    Transmission abandoned;
    synchronized (sendLock) {
      if (disposed) {
        return;
      }
      disposed = true;
      abandoned = pending;
      pending = null;
      outbox = null;
      outboxBytes = 0;
      if (isLocallyInitiated()) {
        connection.localChannelReleased();
      }
      try {
        if (observer != null) {
          channel.unregisterObserver();
        }
        if (!closeRequested) {
          closeRequested = true;
          channel.close();
        }
        channel.dispose();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc: disposing the data channel of " + this + " failed", e);
      }
      if (observer != null) {
        observer.detach(); // webrtc-java never frees it (see ChannelObserver): it must not keep this stream
      }
    }
    if (abandoned != null) {
      // A write still flushing (e.g. made before close()) when the connection went: it fails, never hangs.
      abandoned.future.completeExceptionally(new ConnectionFailedException("webrtc: the connection ended before "
          + abandoned.data.remaining() + " bytes of a write on " + this + " were sent", null));
    }
  }

  /** Bytes not yet delivered to SCTP: queued in the channel plus what a pending write still holds; 0 once gone. */
  long unsentBytes() {
    synchronized (sendLock) {
      if (disposed || closeRequested) {
        return 0;
      }
      return channel.getBufferedAmount() + outboxBytes + (pending == null ? 0 : pending.data.remaining());
    }
  }

  void registerObserverNow() {
    synchronized (sendLock) {
      if (!disposed && observer == null) {
        observer = new ChannelObserver(this);
        channel.registerObserver(observer);
      }
    }
  }

  private boolean isChannelOpenLocked() {
    return !disposed && channel.getState() == RTCDataChannelState.OPEN;
  }

  private void sendFlagLocked(int flag, long code) {
    try {
      sendLocked(WebRtcFraming.encodeFlag(flag, code));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send {0} on {1}: {2}", WebRtcFraming.flagName(flag), this,
          e.getMessage());
    }
  }

  private void sendLocked(byte[] record) throws IOException {
    if (disposed || closeRequested) {
      throw new IOException("webrtc: the data channel of " + this + " is closed");
    }
    if (corks > 0) {
      if (outboxBytes + record.length > WebRtcFraming.MAX_ENCODED) {
        flushLocked(); // a full message: it cannot take this record too
      }
      if (outbox == null) {
        outbox = new ArrayList<>(4);
      }
      outbox.add(record);
      outboxBytes += record.length;
      return;
    }
    sendMessageLocked(record);
  }

  private void sendMessageLocked(byte[] message) throws IOException {
    try {
      // webrtc-java sends the whole backing array: the message is an exact-size array.
      channel.send(new RTCDataChannelBuffer(ByteBuffer.wrap(message), true));
    } catch (Exception e) {
      throw new IOException("webrtc: send on the data channel of " + this + " failed: " + e.getMessage(), e);
    }
  }

  /** Sends the held records (at most 16 KiB) as one data channel message. */
  private void flushLocked() {
    List<byte[]> records = outbox;
    if (records == null) {
      return;
    }
    int size = outboxBytes;
    outbox = null;
    outboxBytes = 0;
    if (disposed || closeRequested) {
      return;
    }
    byte[] message = records.get(0);
    if (records.size() > 1) {
      message = new byte[size];
      int p = 0;
      for (byte[] r : records) {
        System.arraycopy(r, 0, message, p, r.length);
        p += r.length;
      }
    }
    try {
      sendMessageLocked(message);
    } catch (IOException e) {
      // The channel is going away; the stream ends through its state change (or the connection's end).
      LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send held records on {0}: {1}", this, e.getMessage());
    }
  }

  private static final class Transmission {
    final ByteBuffer data;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    boolean waitingForCredit; // guarded by sendLock

    Transmission(ByteBuffer data) {
      this.data = data;
    }
  }
}
