package dev.braid.transport.webrtc.internal;

import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;

/**
 * The observer registered with native code on a data channel (a stream's or the control channel), forwarding to
 * its {@link Target} until {@link #detach()}. webrtc-java 0.14.0's {@code unregisterObserver()} only detaches its
 * native observer from the channel and never frees it, so the JNI global reference that native observer holds keeps
 * this object reachable for the life of the process: it therefore holds its target only until the channel is
 * disposed, so that an ended stream (its buffers, listeners, futures and native channel handle) or a closed
 * connection is never kept by it. What is left per channel is this small object (and webrtc-java's native observer
 * with its global references).
 *
 * <p><b>Thread safety.</b> Thread-safe. Callbacks come on libwebrtc's signaling thread.
 */
final class ChannelObserver implements RTCDataChannelObserver {
  /**
   * Where a channel's events go. Called on libwebrtc's signaling thread: copy what is needed and hand it off; never
   * take a lock there that a thread calling into libwebrtc may hold.
   */
  interface Target {
    /** The channel's state changed (read it with {@code getState()}: it may have moved on since). */
    void channelStateChanged();

    /** A message arrived; {@code buffer} points into native memory that is freed after this call. */
    void channelMessage(RTCDataChannelBuffer buffer);
  }

  private volatile Target target;

  ChannelObserver(Target target) {
    this.target = target;
  }

  /** Forgets the target: called once the channel is disposed, when no callback can come any more. */
  void detach() {
    target = null;
  }

  @Override
  public void onBufferedAmountChange(long previousAmount) {
    // webrtc-java 0.14.0's native observer never calls this: see BufferedAmountPoller.
  }

  @Override
  public void onStateChange() {
    Target t = target;
    if (t != null) {
      t.channelStateChanged();
    }
  }

  @Override
  public void onMessage(RTCDataChannelBuffer buffer) {
    Target t = target;
    if (t != null) {
      t.channelMessage(buffer);
    }
  }
}
