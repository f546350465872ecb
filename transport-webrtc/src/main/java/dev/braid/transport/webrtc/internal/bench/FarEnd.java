package dev.braid.transport.webrtc.internal.bench;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;

/**
 * The baseline's answerer end of one channel (see {@link WebRtcJavaBaseline}), its role chosen by the channel's
 * label: {@code echo#i} echoes every message, {@code sink:N#i} counts N bytes and then answers with one byte,
 * {@code idle#i} releases one {@code idleArrivals} permit per message.
 *
 * <p><b>Thread safety.</b> Runs on libwebrtc's signaling thread only.
 */
final class FarEnd implements RTCDataChannelObserver {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.webrtc.bench");

  private final RTCDataChannel ch;
  private final String label;
  private final Semaphore idleArrivals;
  private final long sinkBytes;
  private long received; // only the signaling thread touches it

  FarEnd(RTCDataChannel ch, String label, Semaphore idleArrivals) {
    this.ch = ch;
    this.label = label;
    this.idleArrivals = idleArrivals;
    this.sinkBytes = label.startsWith("sink:") ? Long.parseLong(label.substring(5, label.indexOf('#'))) : -1;
  }

  @Override
  public void onMessage(RTCDataChannelBuffer buffer) {
    try {
      if (label.startsWith("echo")) {
        byte[] copy = new byte[buffer.data.remaining()];
        buffer.data.get(copy);
        ch.send(new RTCDataChannelBuffer(ByteBuffer.wrap(copy), true));
      } else if (sinkBytes >= 0) {
        long before = received;
        received += buffer.data.remaining();
        if (before < sinkBytes && received >= sinkBytes) {
          ch.send(new RTCDataChannelBuffer(ByteBuffer.wrap(new byte[] {'!'}), true));
        }
      } else if (label.startsWith("idle")) {
        idleArrivals.release();
      }
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "webrtc-java baseline: the far end of " + label + " failed to answer", e);
    }
  }

  @Override
  public void onBufferedAmountChange(long previousAmount) {}

  @Override
  public void onStateChange() {}
}
