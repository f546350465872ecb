package dev.braid.transport.webrtc.internal;

import dev.braid.transport.webrtc.internal.WebRtcFraming.Frame;
import dev.braid.transport.webrtc.internal.WebRtcFraming.FramingException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The receiving side of one stream's data channel: decodes each message into framing records and acts on them in
 * order (data, window updates, FIN, FIN_ACK, STOP_SENDING, RESET_STREAM), enforcing the receive limits.
 *
 * <p><b>Receiving.</b> Data channels have no per-stream flow control that an application can drive: SCTP delivers
 * whatever the peer sends. A Braid peer gets credit through window updates, and one that sends beyond it has broken
 * the protocol; with any other peer, unread bytes are capped per stream ({@code maxReceiveBuffer}), and a peer that
 * exceeds the cap has its stream failed and reset: it is never obeyed.
 *
 * <p><b>Thread safety.</b> Not thread-safe: confined to the connection's serial executor.
 */
final class FrameReceiver {
  private final WebRtcMuxedStream stream;
  private final StreamSender sender;
  private final int maxReceiveBuffer;

  private boolean finReceived;
  private boolean finAckReceived;
  private boolean resetReceived;
  private long received;

  FrameReceiver(WebRtcMuxedStream stream, StreamSender sender, int maxReceiveBuffer) {
    this.stream = stream;
    this.sender = sender;
    this.maxReceiveBuffer = maxReceiveBuffer;
  }

  boolean finReceived() {
    return finReceived;
  }

  boolean finAckReceived() {
    return finAckReceived;
  }

  boolean resetReceived() {
    return resetReceived;
  }

  /**
   * Processes one received data channel message. Whatever the stream sends meanwhile (a FIN_ACK, a window update, and
   * what the application answers synchronously, e.g. an echo and its FIN) is held and then sent as few data channel
   * messages as the 16 KiB limit allows: fewer messages cost less, and webrtc-java 0.14.0 leaks two JNI local
   * references (88 bytes of heap) on its signaling thread for every message the peer receives.
   */
  void onMessage(byte[] message, boolean binary) {
    if (resetReceived) {
      return;
    }
    stream.markOpen(); // a message proves the channel opened, even if its state was first read once it was closing
    sender.cork();
    try {
      process(message, binary);
    } finally {
      sender.uncork();
    }
  }

  private void process(byte[] message, boolean binary) {
    if (!binary) {
      stream.protocolError("text message on a data channel (the framing is binary)");
      return;
    }
    List<Frame> frames;
    try {
      frames = WebRtcFraming.decodeAll(message);
    } catch (FramingException e) {
      stream.protocolError(e.getMessage());
      return;
    }
    for (Frame f : frames) {
      if (!onFrame(f)) {
        return;
      }
    }
  }

  /** Acts on one record; returns whether later records of the message still count. */
  private boolean onFrame(Frame f) {
    if (f.windowUpdate() != WebRtcFraming.NO_CODE) {
      sender.creditGranted(f.windowUpdate());
    }
    if (f.message() != null && f.message().length > 0 && !onData(f.message())) {
      return false;
    }
    long code = f.errorCode() == WebRtcFraming.NO_CODE ? 0 : f.errorCode();
    return switch (f.flag()) {
      case WebRtcFraming.NO_FLAG -> true;
      case WebRtcFraming.FIN -> {
        if (!finReceived) {
          finReceived = true;
          stream.finArrived();
          sender.sendFinAck();
          stream.maybeCloseChannel();
        }
        yield true;
      }
      case WebRtcFraming.FIN_ACK -> {
        if (!sender.finSent()) {
          stream.protocolError("FIN_ACK before we sent FIN");
          yield false;
        }
        finAckReceived = true;
        stream.maybeCloseChannel();
        yield true;
      }
      case WebRtcFraming.STOP_SENDING -> {
        stream.stopSendingArrived(code);
        sender.stopSendingReceived();
        stream.maybeCloseChannel();
        yield true;
      }
      case WebRtcFraming.RESET_STREAM -> {
        resetReceived = true;
        sender.abandon();
        stream.resetArrived(code);
        stream.maybeCloseChannel();
        yield false;
      }
      default -> {
        stream.protocolError("unknown flag " + f.flag());
        yield false;
      }
    };
  }

  private boolean onData(byte[] data) {
    if (finReceived) {
      stream.protocolError("data after FIN");
      return false;
    }
    received += data.length;
    if (sender.flowControl()) {
      long allowed = sender.granted();
      if (received > allowed) {
        stream.protocolError("the peer sent " + received + " bytes, over the " + allowed
            + " its flow-control window allows");
        return false;
      }
    }
    stream.dataArrived(ByteBuffer.wrap(data));
    if (!sender.flowControl() && stream.unreadBytes() > maxReceiveBuffer) {
      stream.protocolError("the peer sent more than " + maxReceiveBuffer + " unread bytes (webrtc.maxReceiveBuffer); data "
          + "channels have no per-stream flow control, so the stream is reset");
      return false;
    }
    return true;
  }
}
