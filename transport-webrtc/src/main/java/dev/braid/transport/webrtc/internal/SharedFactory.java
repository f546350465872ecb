package dev.braid.transport.webrtc.internal;

import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;

/**
 * The process's webrtc-java {@link PeerConnectionFactory}, shared by every live transport instance and
 * disposed, exactly once, when the last of them releases it.
 *
 * <p>Why shared: webrtc-java 0.14.0 leaks native threads. Every factory leaves one idle
 * {@code rtc-low-prio} thread behind after {@code dispose()}, and an audio device module is never
 * freed (its {@code AudioDeviceBuffer} thread stays). So one {@link HeadlessAudioDeviceModule} serves
 * the whole process (created on first use, never disposed: disposing it frees nothing), and factories
 * are created only when none is live: a process that keeps one transport open creates one factory.
 * libwebrtc's signaling, network and worker threads end with each factory's disposal.
 *
 * <p>The factory is created with the headless audio module because webrtc-java's no-argument
 * constructor aborts the JVM on machines without audio devices.
 *
 * <p><b>Thread safety.</b> Thread-safe; acquire and release may come from any thread. The lock is never
 * taken by a libwebrtc callback.
 */
public final class SharedFactory {
  private static final Object LOCK = new Object();
  private static HeadlessAudioDeviceModule audio; // guarded by LOCK
  private static PeerConnectionFactory factory; // guarded by LOCK
  private static int users; // guarded by LOCK

  private SharedFactory() {}

  /** The shared factory, created if none is live; pair every call with {@link #release}. */
  public static PeerConnectionFactory acquire() {
    synchronized (LOCK) {
      if (audio == null) {
        audio = new HeadlessAudioDeviceModule();
      }
      if (factory == null) {
        factory = new PeerConnectionFactory(audio);
      }
      users++;
      return factory;
    }
  }

  /**
   * Gives the factory back. The caller must have closed every peer connection it made with it; the
   * last release disposes the factory.
   */
  public static void release(PeerConnectionFactory f) {
    synchronized (LOCK) {
      if (f != factory || users <= 0) {
        throw new IllegalStateException("release of a factory that is not the live shared one");
      }
      if (--users == 0) {
        factory.dispose();
        factory = null;
      }
    }
  }
}
