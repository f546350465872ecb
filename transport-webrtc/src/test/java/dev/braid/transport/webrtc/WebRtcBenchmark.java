package dev.braid.transport.webrtc;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Braid over WebRTC against webrtc-java's data channel used directly, in the same run and the same
 * network namespace: one-stream throughput, 64 streams on one connection, stream open + first byte, and
 * small-message round trips. Prints a Markdown table of ratios and writes it to
 * {@code target/benchmarks/webrtc.md}. Run with {@code mvn -B -o -pl transport-webrtc -Pbench test}.
 */
public final class WebRtcBenchmark {
  private static final int MIB = 1024 * 1024;
  /** Idle streams for the memory and scaling rows: libwebrtc allows 511 data channels per side. */
  private static final int IDLE = 480;

  private WebRtcBenchmark() {}

  /** Runs every measurement and writes the table. */
  public static void main(String[] args) throws Exception {
    NetnsCheck.requireTestNamespace();
    int bulkMiB = Integer.getInteger("braid.bench.mib", 64);
    List<String[]> rows = new ArrayList<>();
    double rawOne;
    double rawOpen;
    double rawRtt;
    double[] rawIdle;
    try (RawPair raw = new RawPair()) {
      raw.throughput(4); // warm-up
      rawOne = raw.throughput(bulkMiB);
      rawOpen = median(raw.openLatencies(200));
      rawRtt = median(raw.roundTrips(1000));
      rawIdle = raw.idleCost(IDLE);
    }
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    double braidOne;
    double braid64;
    double braidOpen;
    double braidRtt;
    double[] braidIdle;
    double braidOpenLoaded;
    TransportOptions options = Integer.getInteger("braid.bench.window") == null ? TransportOptions.DEFAULTS
        : TransportOptions.builder().receiveWindow(Integer.getInteger("braid.bench.window")).build();
    try (Transport a = p.create(options); Transport b = p.create(options)) {
      Listener l = b.listen(p.testListenAddress());
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = acc.get(20, TimeUnit.SECONDS);
      s.setStreamHandler(WebRtcBenchmark::sink);
      braidThroughput(d, 1, 4); // warm-up
      braidOne = braidThroughput(d, 1, bulkMiB);
      braid64 = braidThroughput(d, 64, Math.max(1, bulkMiB / 64)) ;
      braidOpen = median(braidOpenLatencies(d, 200));
      braidRtt = median(braidRoundTrips(d, 1000));
      List<MuxedStream> idle = new ArrayList<>();
      braidIdle = braidIdleCost(d, s, IDLE, idle);
      braidOpenLoaded = median(braidOpenLatencies(d, 50));
      d.close();
      d.closeFuture().handle((v, e) -> null).get(10, TimeUnit.SECONDS);
      l.close();
    }
    rows.add(new String[] {"throughput, 1 stream (MB/s)", fmt(braidOne), fmt(rawOne), ratio(braidOne, rawOne)});
    rows.add(new String[] {"throughput, 64 streams on one connection (MB/s, total)", fmt(braid64), fmt(rawOne),
        ratio(braid64, rawOne)});
    rows.add(new String[] {"stream open + first byte, median (ms)", fmt(braidOpen), fmt(rawOpen), ratio(braidOpen, rawOpen)});
    rows.add(new String[] {"round trip of a 64-byte message, median (ms)", fmt(braidRtt), fmt(rawRtt), ratio(braidRtt, rawRtt)});
    rows.add(new String[] {"Java heap per idle open stream, both ends (KiB, " + IDLE + " streams)", fmt(braidIdle[0]),
        fmt(rawIdle[0]), ratio(braidIdle[0], rawIdle[0])});
    rows.add(new String[] {"stream open + first byte with " + IDLE + " streams open vs none (ms, Braid)",
        fmt(braidOpenLoaded), fmt(braidOpen), ratio(braidOpenLoaded, braidOpen)});
    StringBuilder md = new StringBuilder();
    md.append("# WebRTC transport benchmark\n\n")
        .append("Braid over WebRTC (libp2p framing, one data channel per stream) against webrtc-java 0.14.0's data channel ")
        .append("used directly (one channel, 16 KiB messages, buffered-amount polling), same JVM, same run, inside the ")
        .append("test network namespace. ").append(bulkMiB).append(" MiB per throughput run, per-stream receive window ")
        .append(options.receiveWindow() / 1024).append(" KiB. Ratios are Braid / baseline ")
        .append("(throughput: higher is better; latency: lower is better). Noisy shared machine: compare ratios.\n\n")
        .append("| measure | Braid | webrtc-java direct | ratio |\n|---|---:|---:|---:|\n");
    for (String[] r : rows) {
      md.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    System.out.println(md);
    Path out = Path.of("target", "benchmarks", "webrtc.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String ratio(double a, double b) {
    return String.format(Locale.ROOT, "%.2f", a / b);
  }

  private static double median(double[] xs) {
    double[] c = xs.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  // ---------------------------------------------------------------- Braid

  private static void sink(MuxedStream st) {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    st.read(buf).whenComplete((n, e) -> {
      if (e != null) {
        return;
      }
      if (n < 0) {
        st.close();
        return;
      }
      // Echo the first bytes back if asked ("E"), keep idle streams ("I") open, else discard everything.
      buf.flip();
      if (buf.get(0) == 'I') {
        return;
      }
      if (buf.get(0) == 'E') {
        echo(st, buf);
      } else {
        drain(st, ByteBuffer.allocate(64 * 1024));
      }
    });
  }

  private static void echo(MuxedStream st, ByteBuffer first) {
    ByteBuffer copy = ByteBuffer.allocate(first.remaining()).put(first).flip();
    st.write(copy).whenComplete((v, e) -> {
      if (e == null) {
        ByteBuffer next = ByteBuffer.allocate(4096);
        st.read(next).whenComplete((n, e2) -> {
          if (e2 == null && n > 0) {
            next.flip();
            echo(st, next);
          } else if (e2 == null) {
            st.close();
          }
        });
      }
    });
  }

  private static void drain(MuxedStream st, ByteBuffer buf) {
    buf.clear();
    st.read(buf).whenComplete((n, e) -> {
      if (e == null && n >= 0) {
        drain(st, buf);
      } else if (e == null) {
        st.write(ByteBuffer.wrap(new byte[] {'!'})).thenCompose(v -> st.closeWrite());
      }
    });
  }

  /** MB/s for {@code streams} streams writing {@code mibEach} MiB each, until each peer acknowledged all. */
  private static double braidThroughput(Connection c, int streams, int mibEach) throws Exception {
    byte[] chunk = new byte[256 * 1024];
    Arrays.fill(chunk, (byte) 'T');
    java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newFixedThreadPool(streams);
    long start = System.nanoTime();
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      done.add(c.openStream().thenComposeAsync(st -> CompletableFuture.runAsync(() -> {
        try {
          var out = st.outputStream();
          for (long left = (long) mibEach * MIB; left > 0; left -= chunk.length) {
            out.write(chunk, 0, (int) Math.min(chunk.length, left));
          }
          out.close();
          st.inputStream().readAllBytes(); // the peer's '!' after it read everything
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, writers), writers));
    }
    for (CompletableFuture<Void> f : done) {
      f.get(300, TimeUnit.SECONDS);
    }
    double secs = (System.nanoTime() - start) / 1e9;
    writers.shutdown();
    return (double) streams * mibEach * MIB / 1e6 / secs;
  }

  /** Heap and RSS (KiB) per idle stream, after each carried one byte; {@code keep} holds them open. */
  private static double[] braidIdleCost(Connection d, Connection s, int n, List<MuxedStream> keep) throws Exception {
    double[] before = memory();
    for (int i = 0; i < n; i++) {
      MuxedStream st = d.openStream().get(10, TimeUnit.SECONDS);
      st.write(ByteBuffer.wrap(new byte[] {'I'})).get(10, TimeUnit.SECONDS);
      keep.add(st);
    }
    Thread.sleep(500);
    double[] after = memory();
    return new double[] {(after[0] - before[0]) / n, (after[1] - before[1]) / n};
  }

  /** Used heap after GC and process RSS, in KiB. */
  static double[] memory() throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    Runtime rt = Runtime.getRuntime();
    double heap = (rt.totalMemory() - rt.freeMemory()) / 1024.0;
    double rss = 0;
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        rss = Double.parseDouble(line.replaceAll("[^0-9]", ""));
      }
    }
    return new double[] {heap, rss};
  }

  private static double[] braidOpenLatencies(Connection c, int n) throws Exception {
    double[] ms = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      MuxedStream st = c.openStream().get(10, TimeUnit.SECONDS);
      st.write(ByteBuffer.wrap(new byte[] {'E'})).get(10, TimeUnit.SECONDS);
      ByteBuffer one = ByteBuffer.allocate(1);
      st.read(one).get(10, TimeUnit.SECONDS); // the echo: the peer accepted the stream and got the first byte
      ms[i] = (System.nanoTime() - t0) / 1e6;
      st.close();
      st.terminated().get(10, TimeUnit.SECONDS);
    }
    return ms;
  }

  private static double[] braidRoundTrips(Connection c, int n) throws Exception {
    MuxedStream st = c.openStream().get(10, TimeUnit.SECONDS);
    byte[] msg = new byte[64];
    msg[0] = 'E';
    double[] ms = new double[n];
    ByteBuffer in = ByteBuffer.allocate(64);
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      st.write(ByteBuffer.wrap(msg)).get(10, TimeUnit.SECONDS);
      in.clear();
      while (in.hasRemaining()) {
        st.read(in).get(10, TimeUnit.SECONDS);
      }
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    st.close();
    return ms;
  }

  // ---------------------------------------------------------------- webrtc-java directly

  /** Two webrtc-java peer connections in this JVM, connected directly (SDP handed over in memory). */
  static final class RawPair implements AutoCloseable {
    final HeadlessAudioDeviceModule audio = new HeadlessAudioDeviceModule();
    final PeerConnectionFactory factory = new PeerConnectionFactory(audio);
    final RTCPeerConnection a;
    final RTCPeerConnection b;
    final BlockingQueue<RTCDataChannel> remote = new LinkedBlockingQueue<>();
    final List<RTCDataChannel> all = new ArrayList<>();
    final CompletableFuture<Void> gatheredA = new CompletableFuture<>();
    final CompletableFuture<Void> gatheredB = new CompletableFuture<>();

    RawPair() throws Exception {
      a = factory.createPeerConnection(new RTCConfiguration(), observer(gatheredA, null));
      b = factory.createPeerConnection(new RTCConfiguration(), observer(gatheredB, remote));
      RTCDataChannel first = a.createDataChannel("", new RTCDataChannelInit()); // gives the offer its m=application
      all.add(first);
      CompletableFuture<Void> s1 = new CompletableFuture<>();
      a.createOffer(new RTCOfferOptions(), create(a, s1));
      s1.get(10, TimeUnit.SECONDS);
      awaitGathered(a, gatheredA);
      CompletableFuture<Void> s2 = new CompletableFuture<>();
      b.setRemoteDescription(new RTCSessionDescription(RTCSdpType.OFFER, a.getLocalDescription().sdp), set(s2));
      s2.get(10, TimeUnit.SECONDS);
      CompletableFuture<Void> s3 = new CompletableFuture<>();
      b.createAnswer(new RTCAnswerOptions(), create(b, s3));
      s3.get(10, TimeUnit.SECONDS);
      awaitGathered(b, gatheredB);
      CompletableFuture<Void> s4 = new CompletableFuture<>();
      a.setRemoteDescription(new RTCSessionDescription(RTCSdpType.ANSWER, b.getLocalDescription().sdp), set(s4));
      s4.get(10, TimeUnit.SECONDS);
      RTCDataChannel firstRemote = remote.poll(15, TimeUnit.SECONDS);
      if (firstRemote == null) {
        throw new IllegalStateException("the direct peers did not connect");
      }
      all.add(firstRemote);
    }

    private static void awaitGathered(RTCPeerConnection pc, CompletableFuture<Void> f) throws Exception {
      if (pc.getIceGatheringState() != RTCIceGatheringState.COMPLETE) {
        f.get(10, TimeUnit.SECONDS);
      }
    }

    private static PeerConnectionObserver observer(CompletableFuture<Void> gathered, BlockingQueue<RTCDataChannel> q) {
      return new PeerConnectionObserver() {
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
          if (q != null) {
            q.add(channel);
          }
        }
      };
    }

    private static CreateSessionDescriptionObserver create(RTCPeerConnection pc, CompletableFuture<Void> f) {
      return new CreateSessionDescriptionObserver() {
        @Override
        public void onSuccess(RTCSessionDescription d) {
          pc.setLocalDescription(d, set(f));
        }

        @Override
        public void onFailure(String error) {
          f.completeExceptionally(new IllegalStateException(error));
        }
      };
    }

    private static SetSessionDescriptionObserver set(CompletableFuture<Void> f) {
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

    /** A channel pair: the local end and the remote end with a message handler. */
    RTCDataChannel[] channel(RTCDataChannelObserverFactory remoteHandler) throws Exception {
      RTCDataChannel local = a.createDataChannel("", new RTCDataChannelInit());
      all.add(local);
      RTCDataChannel far = remote.poll(10, TimeUnit.SECONDS);
      if (far == null) {
        throw new IllegalStateException("no remote channel");
      }
      all.add(far);
      far.registerObserver(remoteHandler.create(far));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (local.getState() != RTCDataChannelState.OPEN && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      return new RTCDataChannel[] {local, far};
    }

    interface RTCDataChannelObserverFactory {
      RTCDataChannelObserver create(RTCDataChannel ch);
    }

    double throughput(int mib) throws Exception {
      AtomicLong got = new AtomicLong();
      long total = (long) mib * MIB;
      CompletableFuture<Void> all = new CompletableFuture<>();
      RTCDataChannel[] ch = channel(far -> new Handler() {
        @Override
        public void onMessage(RTCDataChannelBuffer buffer) {
          if (got.addAndGet(buffer.data.remaining()) >= total) {
            all.complete(null);
          }
        }
      });
      byte[] msg = new byte[16 * 1024];
      long start = System.nanoTime();
      for (long sent = 0; sent < total; sent += msg.length) {
        while (ch[0].getBufferedAmount() > 1024 * 1024) {
          Thread.onSpinWait();
          Thread.sleep(0, 500_000);
        }
        ch[0].send(new RTCDataChannelBuffer(ByteBuffer.wrap(msg), true));
      }
      all.get(300, TimeUnit.SECONDS);
      return total / 1e6 / ((System.nanoTime() - start) / 1e9);
    }

    double[] openLatencies(int n) throws Exception {
      double[] ms = new double[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        RTCDataChannel local = a.createDataChannel("", new RTCDataChannelInit());
        all.add(local);
        CompletableFuture<Void> echoed = new CompletableFuture<>();
        local.registerObserver(new Handler() {
          @Override
          public void onMessage(RTCDataChannelBuffer buffer) {
            echoed.complete(null);
          }
        });
        local.send(new RTCDataChannelBuffer(ByteBuffer.wrap(new byte[] {'E'}), true));
        RTCDataChannel far = remote.poll(10, TimeUnit.SECONDS);
        all.add(far);
        far.registerObserver(new Handler() {
          @Override
          public void onMessage(RTCDataChannelBuffer buffer) {
            try {
              far.send(new RTCDataChannelBuffer(ByteBuffer.wrap(new byte[] {'E'}), true));
            } catch (Exception e) {
              echoed.completeExceptionally(e);
            }
          }
        });
        echoed.get(10, TimeUnit.SECONDS);
        ms[i] = (System.nanoTime() - t0) / 1e6;
        local.unregisterObserver();
        local.close();
      }
      return ms;
    }

    /** Heap and RSS (KiB) per idle channel pair, after each carried one message. */
    double[] idleCost(int n) throws Exception {
      double[] before = memory();
      for (int i = 0; i < n; i++) {
        RTCDataChannel local = a.createDataChannel("", new RTCDataChannelInit());
        all.add(local);
        RTCDataChannel far = remote.poll(10, TimeUnit.SECONDS);
        all.add(far);
        CompletableFuture<Void> got = new CompletableFuture<>();
        far.registerObserver(new Handler() {
          @Override
          public void onMessage(RTCDataChannelBuffer buffer) {
            got.complete(null);
          }
        });
        local.send(new RTCDataChannelBuffer(ByteBuffer.wrap(new byte[] {'I'}), true));
        got.get(10, TimeUnit.SECONDS);
      }
      Thread.sleep(500);
      double[] after = memory();
      return new double[] {(after[0] - before[0]) / n, (after[1] - before[1]) / n};
    }

    double[] roundTrips(int n) throws Exception {
      BlockingQueue<Boolean> back = new LinkedBlockingQueue<>();
      RTCDataChannel[] ch = channel(far -> new Handler() {
        @Override
        public void onMessage(RTCDataChannelBuffer buffer) {
          byte[] copy = new byte[buffer.data.remaining()];
          buffer.data.get(copy);
          try {
            far.send(new RTCDataChannelBuffer(ByteBuffer.wrap(copy), true));
          } catch (Exception e) {
            back.add(false);
          }
        }
      });
      ch[0].registerObserver(new Handler() {
        @Override
        public void onMessage(RTCDataChannelBuffer buffer) {
          back.add(true);
        }
      });
      byte[] msg = new byte[64];
      double[] ms = new double[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        ch[0].send(new RTCDataChannelBuffer(ByteBuffer.wrap(msg), true));
        Boolean ok = back.poll(10, TimeUnit.SECONDS);
        if (ok == null || !ok) {
          throw new IllegalStateException("echo failed");
        }
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
      return ms;
    }

    @Override
    public void close() {
      for (RTCDataChannel c : all) {
        if (c != null) {
          c.unregisterObserver();
          c.close();
          c.dispose();
        }
      }
      a.close();
      b.close();
      factory.dispose();
      audio.dispose();
    }
  }

  private abstract static class Handler implements RTCDataChannelObserver {
    @Override
    public void onBufferedAmountChange(long previousAmount) {}

    @Override
    public void onStateChange() {}
  }
}
