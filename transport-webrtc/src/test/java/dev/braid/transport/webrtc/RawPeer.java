package dev.braid.transport.webrtc;

import dev.braid.transport.webrtc.internal.SignalingClient;
import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * webrtc-java used directly, without Braid: a test peer that dials a Braid listener through its
 * signaling endpoint and sends raw bytes on data channels (for malformed framing and as the benchmark
 * baseline). Not thread-safe beyond what webrtc-java offers; one test thread drives it.
 */
final class RawPeer implements AutoCloseable {
  private final HeadlessAudioDeviceModule audio = new HeadlessAudioDeviceModule();
  private final PeerConnectionFactory factory = new PeerConnectionFactory(audio);
  private final List<RawChannel> channels = new ArrayList<>();
  private final BlockingQueue<RTCDataChannel> remoteChannels = new LinkedBlockingQueue<>();
  private RTCPeerConnection pc;
  private RTCDataChannel control;
  private final java.util.concurrent.atomic.AtomicLong controlMessages = new java.util.concurrent.atomic.AtomicLong();

  /** Connects to the Braid listener through its signaling endpoint. */
  void connect(URI braidListener, String token) throws Exception {
    answer(exchange(braidListener, token));
  }

  /** Creates the offer and posts it to the Braid listener's signaling endpoint; returns the answer, not applied yet. */
  String exchange(URI braidListener, String token) throws Exception {
    String offer = offer();
    return SignalingClient.exchange(URI.create("http://" + braidListener.getHost() + ":" + braidListener.getPort()
        + "/braid"), offer, token, Duration.ofSeconds(10));
  }

  private final CompletableFuture<Void> gathered = new CompletableFuture<>();
  private final CompletableFuture<Void> controlOpen = new CompletableFuture<>();

  private void create() {
    pc = factory.createPeerConnection(new RTCConfiguration(), new PeerConnectionObserver() {
      @Override
      public void onIceCandidate(RTCIceCandidate candidate) {}

      @Override
      public void onIceGatheringChange(RTCIceGatheringState state) {
        if (state == RTCIceGatheringState.COMPLETE) {
          gathered.complete(null);
        }
      }

      @Override
      public void onDataChannel(RTCDataChannel channel) {
        remoteChannels.add(channel);
      }
    });
    RTCDataChannelInit init = new RTCDataChannelInit();
    init.negotiated = true;
    init.id = 0;
    control = pc.createDataChannel("braid-control", init);
    control.registerObserver(new RTCDataChannelObserver() {
      @Override
      public void onBufferedAmountChange(long previousAmount) {}

      @Override
      public void onStateChange() {
        if (control.getState() == RTCDataChannelState.OPEN) {
          controlOpen.complete(null);
        }
      }

      @Override
      public void onMessage(RTCDataChannelBuffer buffer) {
        controlMessages.incrementAndGet();
      }
    });
  }

  /** Messages received on the control channel (Braid sends none to a peer that announced no keep-alive). */
  long controlMessages() {
    return controlMessages.get();
  }

  String offer() throws Exception {
    create();
    CompletableFuture<Void> set = new CompletableFuture<>();
    pc.createOffer(new RTCOfferOptions(), new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription d) {
        pc.setLocalDescription(d, observer(set));
      }

      @Override
      public void onFailure(String error) {
        set.completeExceptionally(new IllegalStateException(error));
      }
    });
    set.get(10, TimeUnit.SECONDS);
    if (pc.getIceGatheringState() != RTCIceGatheringState.COMPLETE) {
      gathered.get(10, TimeUnit.SECONDS);
    }
    return pc.getLocalDescription().sdp;
  }

  void answer(String sdp) throws Exception {
    CompletableFuture<Void> set = new CompletableFuture<>();
    pc.setRemoteDescription(new RTCSessionDescription(RTCSdpType.ANSWER, sdp), observer(set));
    set.get(10, TimeUnit.SECONDS);
    if (control.getState() != RTCDataChannelState.OPEN) {
      controlOpen.get(15, TimeUnit.SECONDS);
    }
  }

  private static SetSessionDescriptionObserver observer(CompletableFuture<Void> f) {
    return new SetSessionDescriptionObserver() {
      @Override
      public void onSuccess() {
        f.complete(null);
      }

      @Override
      public void onFailure(String error) {
        f.completeExceptionally(new IllegalStateException(error));
      }
    };
  }

  /** Opens a data channel (in-band, empty label) and waits until it is open. */
  RawChannel open() throws Exception {
    return open(new RTCDataChannelInit());
  }

  /** Opens a data channel with {@code init} and waits until it is open. */
  RawChannel open(RTCDataChannelInit init) throws Exception {
    RTCDataChannel ch = pc.createDataChannel("", init);
    RawChannel c = new RawChannel(ch);
    channels.add(c);
    c.awaitOpen();
    return c;
  }

  /** The next channel the Braid side opened. */
  RawChannel accept() throws Exception {
    RTCDataChannel ch = remoteChannels.poll(15, TimeUnit.SECONDS);
    if (ch == null) {
      throw new AssertionError("no data channel from the Braid side");
    }
    RawChannel c = new RawChannel(ch);
    channels.add(c);
    c.awaitOpen();
    return c;
  }

  @Override
  public void close() {
    for (RawChannel c : channels) {
      c.dispose();
    }
    if (control != null) {
      control.unregisterObserver();
      control.close();
      control.dispose();
    }
    if (pc != null) {
      pc.close();
    }
    factory.dispose();
    audio.dispose();
  }

  /** One raw data channel. */
  static final class RawChannel {
    final RTCDataChannel channel;
    final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> opened = new CompletableFuture<>();
    final CompletableFuture<Void> closed = new CompletableFuture<>();
    private boolean disposed;

    RawChannel(RTCDataChannel channel) {
      this.channel = channel;
      channel.registerObserver(new RTCDataChannelObserver() {
        @Override
        public void onBufferedAmountChange(long previousAmount) {}

        @Override
        public void onStateChange() {
          RTCDataChannelState s = channel.getState();
          if (s != RTCDataChannelState.CONNECTING) {
            opened.complete(null); // open, or already past it (a peer that refuses closes at once)
          }
          if (s == RTCDataChannelState.CLOSED) {
            closed.complete(null);
          }
        }

        @Override
        public void onMessage(RTCDataChannelBuffer buffer) {
          byte[] copy = new byte[buffer.data.remaining()];
          buffer.data.get(copy);
          received.add(copy);
        }
      });
    }

    void awaitOpen() throws Exception {
      if (channel.getState() == RTCDataChannelState.CONNECTING) {
        opened.get(15, TimeUnit.SECONDS);
      }
    }

    /** Sends exactly {@code bytes} as one data channel message. */
    void send(byte[] bytes) throws Exception {
      channel.send(new RTCDataChannelBuffer(ByteBuffer.wrap(bytes), true));
    }

    long bufferedAmount() {
      return channel.getBufferedAmount();
    }

    byte[] next() throws InterruptedException {
      byte[] m = received.poll(15, TimeUnit.SECONDS);
      if (m == null) {
        throw new AssertionError("no message within 15 s");
      }
      return m;
    }

    void dispose() {
      if (!disposed) {
        disposed = true;
        channel.unregisterObserver();
        channel.close();
        channel.dispose();
      }
    }
  }
}
