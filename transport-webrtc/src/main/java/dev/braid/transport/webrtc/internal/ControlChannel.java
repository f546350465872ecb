package dev.braid.transport.webrtc.internal;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelState;
import dev.onvoid.webrtc.RTCPeerConnection;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A connection's control channel: pre-negotiated on SCTP stream id {@value #ID} (libp2p reserves negotiated channels
 * for handshakes) and created by both sides with the handshake. Its opening establishes the connection; its closure
 * tells each side that the other closed the connection. Between Braid peers it carries the keep-alive
 * ({@link Liveness}): a binary one-byte {@link #PING}, answered at once with a {@link #PONG}; other messages are
 * ignored (room for later versions).
 *
 * <p><b>Thread safety.</b> Thread-safe. The channel handle is guarded by a lock that no native callback takes;
 * state changes are handled on the connection's serial executor.
 */
final class ControlChannel implements ChannelObserver.Target {
  private static final System.Logger LOG = System.getLogger(ControlChannel.class.getName());
  static final int ID = 0;
  /** A control message (one byte): asks the peer for a {@link #PONG}. */
  static final byte PING = 1;
  /** A control message (one byte): the answer to a {@link #PING}. */
  static final byte PONG = 2;

  private final WebRtcConnection connection;
  /** Completed once the channel is CLOSED or disposed. */
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final Object lock = new Object();
  // guarded by lock
  private RTCDataChannel channel;
  private ChannelObserver observer;
  private boolean disposed;

  ControlChannel(WebRtcConnection connection) {
    this.connection = connection;
  }

  /** Creates the channel on {@code pc} and starts observing it. Signaling executor. */
  void create(RTCPeerConnection pc) {
    RTCDataChannel ch = NativePeer.createChannel(pc, "braid-control", ID);
    synchronized (lock) {
      channel = ch;
      observer = new ChannelObserver(this);
      ch.registerObserver(observer);
    }
    connection.serial().execute(this::onState);
  }

  /** The channel's live state; CLOSED before it exists and once it is disposed. */
  RTCDataChannelState state() {
    synchronized (lock) {
      return channel == null || disposed ? RTCDataChannelState.CLOSED : channel.getState();
    }
  }

  /** Completes once the channel is CLOSED, or disposed. */
  CompletableFuture<Void> closed() {
    return closed;
  }

  /** Sends a one-byte control message; returns whether it was handed to the channel. */
  boolean send(byte type) {
    synchronized (lock) {
      if (channel == null || disposed || connection.isTearingDown() || channel.getState() != RTCDataChannelState.OPEN) {
        return false;
      }
      try {
        // webrtc-java sends the whole backing array: an exact-size one.
        channel.send(new RTCDataChannelBuffer(ByteBuffer.wrap(new byte[] {type}), true));
        return true;
      } catch (Exception e) {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: could not send a control message on {0}: {1}", connection,
            e.getMessage());
        return false;
      }
    }
  }

  /** Starts closing the channel: the graceful close's signal to the peer. Signaling executor. */
  void close() {
    synchronized (lock) {
      if (channel != null && !disposed) {
        channel.close();
      }
    }
  }

  /** Unregisters the observer, closes and frees the channel, once. Signaling executor. */
  void dispose() {
    synchronized (lock) {
      if (channel != null && !disposed) {
        disposed = true;
        try {
          NativePeer.release(channel, true, false);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "webrtc: disposing the control channel of " + connection + " failed", e);
        } finally {
          observer.detach(); // webrtc-java never frees it (see ChannelObserver): it must not keep this connection
        }
      }
    }
    closed.complete(null);
  }

  /** Serial executor: the channel opened (the connection is established) or is closing (the connection ends). */
  private void onState() {
    RTCDataChannelState s = state();
    if (s == RTCDataChannelState.OPEN) {
      connection.controlOpened();
    } else if (s == RTCDataChannelState.CLOSING || s == RTCDataChannelState.CLOSED) {
      if (s == RTCDataChannelState.CLOSED) {
        closed.complete(null);
      }
      connection.controlClosing();
    }
  }

  // ---------------------------------------------------------------- native callbacks (libwebrtc's thread)

  @Override
  public void channelStateChanged() {
    connection.serial().execute(this::onState);
  }

  @Override
  public void channelMessage(RTCDataChannelBuffer buffer) {
    // Never take a lock here.
    connection.markReceived();
    ByteBuffer data = buffer.data;
    if (buffer.binary && data != null && data.remaining() == 1) {
      byte type = data.get(data.position());
      if (type == PING) {
        connection.liveness().pinged();
      } else if (type == PONG) {
        connection.liveness().ponged();
      }
    }
  }
}
