package dev.braid.transport.webrtc.internal.bench;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The baseline's offerer end of one channel (see {@link WebRtcJavaBaseline}): its state and the messages it received,
 * copied inside the callback (the buffer points into native memory freed after it).
 *
 * <p><b>Thread safety.</b> libwebrtc's signaling thread calls the observer methods; the bench thread waits on
 * {@link #opened}, {@link #closed} and {@link #next}.
 */
final class NearEnd implements RTCDataChannelObserver {
  final RTCDataChannel ch;
  final CompletableFuture<Void> opened = new CompletableFuture<>();
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  final BlockingQueue<byte[]> messages = new LinkedBlockingQueue<>();

  NearEnd(RTCDataChannel ch) {
    this.ch = ch;
  }

  void stateChanged() {
    RTCDataChannelState s = ch.getState();
    if (s == RTCDataChannelState.OPEN) {
      opened.complete(null);
    } else if (s == RTCDataChannelState.CLOSED) {
      opened.completeExceptionally(new IOException("webrtc-java baseline: the channel closed before it opened"));
      closed.complete(null);
    }
  }

  @Override
  public void onStateChange() {
    stateChanged();
  }

  @Override
  public void onMessage(RTCDataChannelBuffer buffer) {
    byte[] copy = new byte[buffer.data.remaining()];
    buffer.data.get(copy);
    messages.add(copy);
  }

  @Override
  public void onBufferedAmountChange(long previousAmount) {}

  byte[] next(String what) throws Exception {
    long timeout = WebRtcJavaBaseline.STEP_TIMEOUT_SECONDS;
    byte[] m = messages.poll(timeout, TimeUnit.SECONDS);
    if (m == null) {
      throw new TimeoutException("webrtc-java baseline: no " + what + " within " + timeout + " s (channel "
          + ch.getState() + ")");
    }
    return m;
  }
}
