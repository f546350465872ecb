package dev.braid.transport.webrtc.internal.bench;

import dev.braid.spi.BenchBaseline;
import dev.braid.transport.webrtc.internal.NativePeer;
import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelState;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The baseline for {@code webrtc}: webrtc-java 0.14.0's data channels used directly, without Braid. Two
 * peer connections in this JVM, connected once at {@link #start()} with their SDP handed over in memory
 * (no trickle: each waits for ICE gathering to complete); every measurement uses data channels of that
 * one connection, one channel where Braid uses one stream. The native objects are created and released with
 * {@link NativePeer}, as Braid's transport does (a peer connection without TCP candidates, ordered and reliable
 * data channels negotiated in-band).
 *
 * <p>A data channel has no half-close, so the far end's role comes from the channel's label ({@link FarEnd}):
 * {@code echo#i} echoes every message, {@code sink:N#i} counts N bytes and then answers with one byte (the
 * equivalent of Braid's "write N bytes, FIN, wait for the peer's FIN"), {@code idle#i} counts its messages; the
 * near end ({@link NearEnd}) keeps what it receives. Messages are at most 16 KiB (what Braid's WebRTC transport
 * sends), passed in exact-size buffers (webrtc-java sends a heap buffer's whole backing array); backpressure polls
 * {@code getBufferedAmount()} ({@code onBufferedAmountChange} never fires in 0.14.0). Received buffers are copied
 * or counted inside the callback (they point into native memory freed after it). Every channel is closed and
 * disposed exactly once: after each measurement, and at {@link #stop()} for whatever is left.
 *
 * <p>libwebrtc never gathers loopback candidates, and benchmarks may only use a network namespace the run
 * created (brief §8): {@link #start()} requires {@value #TEST_ADDRESS_ENV} (which {@code bin/braid} sets when
 * it runs the JVM in its private namespace as root) and refuses to run when any other non-loopback
 * interface is up ({@link TestNamespace}). libwebrtc allows about 511 data channels per side, so the idle-stream
 * memory figure uses at most {@value #MAX_IDLE_CHANNELS} channels (the figure is per channel either way).
 *
 * <p><b>Thread safety.</b> Not thread-safe: {@code Bench} calls one method at a time. libwebrtc's callbacks
 * never take a lock.
 */
public final class WebRtcJavaBaseline implements BenchBaseline {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.webrtc.bench");
  static final String TEST_ADDRESS_ENV = "BRAID_WEBRTC_TEST_ADDRESS";
  static final int MAX_IDLE_CHANNELS = 480;
  private static final int MESSAGE = 16 * 1024;
  private static final long HIGH_WATER_ONE = 1024 * 1024;
  private static final long HIGH_WATER_MANY = 256 * 1024;
  private static final long OP_TIMEOUT_SECONDS = 120;
  static final long STEP_TIMEOUT_SECONDS = 10;

  private final AtomicInteger labels = new AtomicInteger();
  /** Every native channel not yet disposed, both ends, with whether an observer of ours is registered on it. */
  private final Map<RTCDataChannel, Boolean> live = new ConcurrentHashMap<>();
  /** The far end of each channel, by label, completed by {@code onDataChannel}. */
  private final Map<String, CompletableFuture<RTCDataChannel>> far = new ConcurrentHashMap<>();
  private final Semaphore idleArrivals = new Semaphore(0);

  private HeadlessAudioDeviceModule audio;
  private PeerConnectionFactory factory;
  private RTCPeerConnection offerer;
  private RTCPeerConnection answerer;

  /** Creates the baseline; {@link #start()} does the work. */
  public WebRtcJavaBaseline() {}

  @Override
  public String transportId() {
    return "webrtc";
  }

  @Override
  public String name() {
    return "webrtc-java 0.14.0 data channel direct";
  }

  @Override
  public void start() throws Exception {
    TestNamespace.require();
    try {
      try {
        audio = new HeadlessAudioDeviceModule();
        factory = new PeerConnectionFactory(audio);
      } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
        throw new IOException("webrtc-java baseline: the native library (webrtc-java:0.14.0:linux-x86_64) does not load "
            + "(needs libpulse0 and friends, brief §7): " + e, e);
      }
      CompletableFuture<Void> gatheredA = new CompletableFuture<>();
      CompletableFuture<Void> gatheredB = new CompletableFuture<>();
      offerer = NativePeer.createPeerConnection(factory, new Peer(gatheredA, false));
      answerer = NativePeer.createPeerConnection(factory, new Peer(gatheredB, true));
      RTCDataChannel first = NativePeer.createChannel(offerer, "first", -1); // the offer's m=application
      live.put(first, false);
      CompletableFuture<Void> step = new CompletableFuture<>();
      offerer.createOffer(new RTCOfferOptions(), create(offerer, step));
      await(step, "creating the offer");
      awaitGathered(offerer, gatheredA);
      step = new CompletableFuture<>();
      NativePeer.setRemoteDescription(answerer,
          new RTCSessionDescription(RTCSdpType.OFFER, offerer.getLocalDescription().sdp), set(step));
      await(step, "setting the offer");
      step = new CompletableFuture<>();
      answerer.createAnswer(new RTCAnswerOptions(), create(answerer, step));
      await(step, "creating the answer");
      awaitGathered(answerer, gatheredB);
      step = new CompletableFuture<>();
      NativePeer.setRemoteDescription(offerer,
          new RTCSessionDescription(RTCSdpType.ANSWER, answerer.getLocalDescription().sdp), set(step));
      await(step, "setting the answer");
      try {
        farEnd("first").get(15, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new IOException("webrtc-java baseline: the two peer connections did not connect within 15 s (ICE state "
            + offerer.getIceConnectionState() + "); candidates must come from " + TestNamespace.address(), e);
      }
    } catch (Exception | Error e) {
      try {
        stop();
      } catch (Exception e2) {
        e.addSuppressed(e2);
      }
      throw e;
    }
  }

  private static void await(CompletableFuture<Void> f, String what) throws Exception {
    try {
      f.get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IOException("webrtc-java baseline: " + what + " did not finish within " + STEP_TIMEOUT_SECONDS + " s", e);
    }
  }

  private static void awaitGathered(RTCPeerConnection pc, CompletableFuture<Void> gathered) throws Exception {
    if (pc.getIceGatheringState() != RTCIceGatheringState.COMPLETE) {
      await(gathered, "ICE gathering");
    }
  }

  private CompletableFuture<RTCDataChannel> farEnd(String label) {
    return far.computeIfAbsent(label, k -> new CompletableFuture<>());
  }

  @Override
  public void stop() {
    for (RTCDataChannel ch : new ArrayList<>(live.keySet())) {
      dispose(ch);
    }
    far.clear();
    if (offerer != null) {
      offerer.close();
      offerer = null;
    }
    if (answerer != null) {
      answerer.close();
      answerer = null;
    }
    if (factory != null) {
      factory.dispose();
      factory = null;
    }
    if (audio != null) {
      audio.dispose();
      audio = null;
    }
  }

  /** Unregisters, closes and frees a native channel, exactly once. */
  private void dispose(RTCDataChannel ch) {
    Boolean observed = live.remove(ch);
    if (observed == null) {
      return;
    }
    try {
      NativePeer.release(ch, observed, ch.getState() == RTCDataChannelState.CLOSED);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "webrtc-java baseline: disposing a data channel failed", e);
    }
  }

  // ------------------------------------------------------------------ the handshake

  private final class Peer implements PeerConnectionObserver {
    private final CompletableFuture<Void> gathered;
    private final boolean answering;

    Peer(CompletableFuture<Void> gathered, boolean answering) {
      this.gathered = gathered;
      this.answering = answering;
    }

    @Override
    public void onIceCandidate(RTCIceCandidate candidate) {
      // not trickled: the descriptions are exchanged after gathering completes
    }

    @Override
    public void onIceGatheringChange(RTCIceGatheringState state) {
      if (state == RTCIceGatheringState.COMPLETE) {
        gathered.complete(null);
      }
    }

    @Override
    public void onDataChannel(RTCDataChannel channel) {
      live.put(channel, false); // disposed by close(NearEnd) or stop(), never inside a callback
      if (!answering) {
        LOG.log(System.Logger.Level.WARNING, "webrtc-java baseline: unexpected channel from the answerer");
        return;
      }
      String label = channel.getLabel();
      try {
        channel.registerObserver(new FarEnd(channel, label, idleArrivals)); // here, before any message can arrive
        live.put(channel, true);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "webrtc-java baseline: bad channel " + label, e);
      }
      farEnd(label).complete(channel);
    }
  }

  /** Sets the description created on {@code pc} as its local one; {@code f} completes once it is set. */
  private static CreateSessionDescriptionObserver create(RTCPeerConnection pc, CompletableFuture<Void> f) {
    return NativePeer.whenCreated(d -> pc.setLocalDescription(d, set(f)),
        error -> f.completeExceptionally(new IOException("webrtc-java baseline: " + error)));
  }

  private static SetSessionDescriptionObserver set(CompletableFuture<Void> f) {
    return NativePeer.whenSet(() -> f.complete(null),
        error -> f.completeExceptionally(new IOException("webrtc-java baseline: " + error)));
  }

  // ------------------------------------------------------------------ the near end (offerer)

  /** Opens a channel and waits until it is open; its far end exists once it is. */
  private NearEnd open(String role) throws Exception {
    String label = role + "#" + labels.incrementAndGet();
    RTCDataChannel ch = NativePeer.createChannel(offerer, label, -1);
    live.put(ch, false);
    NearEnd near = new NearEnd(ch);
    ch.registerObserver(near);
    live.put(ch, true);
    near.stateChanged(); // it may have opened before the observer was there
    try {
      near.opened.get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new TimeoutException("webrtc-java baseline: channel " + label + " did not open within " + STEP_TIMEOUT_SECONDS
          + " s");
    }
    return near;
  }

  /** Closes both ends of a channel, waits (bounded) until it is closed, and frees both. */
  private void close(NearEnd near) throws Exception {
    near.ch.close();
    try {
      near.closed.get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, "webrtc-java baseline: channel " + near.ch.getLabel() + " did not close in "
          + STEP_TIMEOUT_SECONDS + " s");
    }
    CompletableFuture<RTCDataChannel> f = far.remove(near.ch.getLabel());
    dispose(near.ch);
    if (f != null) {
      RTCDataChannel remote = f.getNow(null);
      if (remote != null) {
        dispose(remote);
      }
    }
  }

  private static void send(RTCDataChannel ch, byte[] exact) throws Exception {
    ch.send(new RTCDataChannelBuffer(ByteBuffer.wrap(exact), true));
  }

  private static void checkDeadline(long deadline, NearEnd near, String what) throws Exception {
    if (System.nanoTime() > deadline) {
      throw new TimeoutException("webrtc-java baseline: " + what + " did not finish within " + OP_TIMEOUT_SECONDS + " s");
    }
    if (near.ch.getState() != RTCDataChannelState.OPEN) {
      throw new IOException("webrtc-java baseline: channel " + near.ch.getLabel() + " is " + near.ch.getState()
          + " during " + what + " (libwebrtc closes a channel silently past 16 MiB buffered)");
    }
  }

  @Override
  public double oneStreamThroughput(long bytes) throws Exception {
    NearEnd near = open("sink:" + bytes);
    try {
      byte[] full = new byte[MESSAGE];
      java.util.Arrays.fill(full, (byte) 'S');
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(OP_TIMEOUT_SECONDS);
      long t0 = System.nanoTime();
      for (long left = bytes; left > 0; ) {
        while (near.ch.getBufferedAmount() > HIGH_WATER_ONE) {
          checkDeadline(deadline, near, "one channel of " + bytes + " bytes");
          LockSupport.parkNanos(200_000);
        }
        byte[] msg = left >= MESSAGE ? full : java.util.Arrays.copyOf(full, (int) left);
        send(near.ch, msg);
        left -= msg.length;
      }
      awaitAck(near, deadline);
      return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
    } finally {
      close(near);
    }
  }

  private static void awaitAck(NearEnd near, long deadline) throws Exception {
    byte[] ack = near.messages.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    if (ack == null) {
      throw new TimeoutException("webrtc-java baseline: the far end of " + near.ch.getLabel()
          + " did not confirm all bytes within " + OP_TIMEOUT_SECONDS + " s");
    }
  }

  @Override
  public double manyStreamsThroughput(int n, long perStream) throws Exception {
    List<NearEnd> nears = new ArrayList<>(n);
    try {
      for (int i = 0; i < n; i++) {
        nears.add(open("sink:" + perStream));
      }
      byte[] full = new byte[MESSAGE];
      java.util.Arrays.fill(full, (byte) 'S');
      long[] left = new long[n];
      java.util.Arrays.fill(left, perStream);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(OP_TIMEOUT_SECONDS);
      long t0 = System.nanoTime();
      int unfinished = n;
      while (unfinished > 0) {
        boolean sent = false;
        for (int i = 0; i < n; i++) {
          NearEnd near = nears.get(i);
          if (left[i] > 0 && near.ch.getBufferedAmount() <= HIGH_WATER_MANY) {
            byte[] msg = left[i] >= MESSAGE ? full : java.util.Arrays.copyOf(full, (int) left[i]);
            send(near.ch, msg);
            left[i] -= msg.length;
            sent = true;
            if (left[i] == 0) {
              unfinished--;
            }
          }
        }
        if (!sent) {
          checkDeadline(deadline, nears.get(0), n + " channels of " + perStream + " bytes");
          LockSupport.parkNanos(200_000);
        }
      }
      for (NearEnd near : nears) {
        awaitAck(near, deadline);
      }
      return n * perStream / 1e6 / ((System.nanoTime() - t0) / 1e9);
    } finally {
      for (NearEnd near : nears) {
        close(near);
      }
    }
  }

  @Override
  public double openFirstByteMicros(int samples) throws Exception {
    double[] us = new double[samples];
    byte[] e = {'E'};
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      NearEnd near = open("echo");
      try {
        send(near.ch, e);
        near.next("echo of the first byte");
        us[i] = (System.nanoTime() - t0) / 1e3;
      } finally {
        close(near);
      }
    }
    return BenchBaseline.median(us);
  }

  @Override
  public double roundTripMicros(int samples) throws Exception {
    NearEnd near = open("echo");
    try {
      byte[] msg = new byte[64];
      java.util.Arrays.fill(msg, (byte) 'E');
      double[] us = new double[samples];
      for (int i = 0; i < samples; i++) {
        long t0 = System.nanoTime();
        send(near.ch, msg);
        int got = 0;
        while (got < 64) {
          got += near.next("echo of a 64-byte message").length;
        }
        us[i] = (System.nanoTime() - t0) / 1e3;
      }
      return BenchBaseline.median(us);
    } finally {
      close(near);
    }
  }

  @Override
  public double memoryPerIdleStreamBytes(int n) throws Exception {
    int channels = Math.min(n, MAX_IDLE_CHANNELS);
    List<NearEnd> nears = new ArrayList<>(channels);
    AtomicLong result = new AtomicLong();
    try {
      idleArrivals.drainPermits();
      long before = BenchBaseline.settledHeap();
      byte[] s = {'S'};
      for (int i = 0; i < channels; i++) {
        NearEnd near = open("idle");
        nears.add(near);
        send(near.ch, s); // make it exist on both ends
        if (!idleArrivals.tryAcquire(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          throw new TimeoutException("webrtc-java baseline: idle channel " + i + "'s byte did not arrive");
        }
      }
      Thread.sleep(200);
      long after = BenchBaseline.usedHeap();
      result.set(Math.max(0, after - before));
    } finally {
      for (NearEnd near : nears) {
        close(near);
      }
    }
    return result.get() / (double) channels;
  }
}
