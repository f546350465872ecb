package dev.braid.transport.quic;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.DaemonThreads;
import dev.braid.tls.CertificatePins;
import dev.braid.tls.ListenerIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.QuicStream;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;

/**
 * Braid over kwik against kwik used directly, in one run, on loopback. Both sides speak the same tiny protocol:
 * the first byte of a stream says what the server end does: {@code S} read to end-of-stream, then reply with the
 * 8-byte count and FIN; {@code E} echo every byte, FIN after FIN. Prints a Markdown table of ratios and writes it to
 * {@code target/benchmarks/quic.md}. Absolute numbers on these shared machines are noisy; ratios are the point.
 *
 * <p>Run: {@code mvn -B -o -pl transport-quic test -Pbench} (or run this main on the test class path).
 */
public final class QuicBenchmark {
  private static final int CHUNK = 64 * 1024;
  private static final long BULK = Long.getLong("quic.bench.bytes", 64L << 20);
  private static final int STREAMS64_EACH = 1 << 20;
  private static final int RTT_ROUNDS = Integer.getInteger("quic.bench.rtt", 2000);
  private static final int OPENS = Integer.getInteger("quic.bench.opens", 500);

  private QuicBenchmark() {}

  /** Runs every measurement and returns the Markdown report. */
  public static String run() throws Exception {
    List<String[]> rows = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    try (BraidSide braid = new BraidSide(); KwikSide kwik = new KwikSide()) {
      // warm-up
      braid.bulk(8L << 20);
      attempt(notes, "kwik warm-up", () -> kwik.bulk(8L << 20));

      double b1 = mbPerSecond(BULK, () -> braid.bulk(BULK));
      double k1 = attempt(notes, "kwik 1-stream throughput", () -> mbPerSecond(BULK, () -> kwik.bulk(BULK)));
      rows.add(row("throughput, 1 stream (" + (BULK >> 20) + " MiB)", b1, k1, "MB/s", true));

      long total64 = 64L * STREAMS64_EACH;
      double b64 = mbPerSecond(total64, () -> braid.parallel(64, STREAMS64_EACH));
      double k64 = attempt(notes, "kwik 64-stream throughput",
          () -> mbPerSecond(total64, () -> kwik.parallel(64, STREAMS64_EACH)));
      rows.add(row("throughput, 64 streams x 1 MiB, one connection", b64, k64, "MB/s", true));

      double bOpen = microsPer(OPENS, () -> braid.openFirstByte(OPENS));
      double kOpen = attempt(notes, "kwik open + first byte", () -> microsPer(OPENS, () -> kwik.openFirstByte(OPENS)));
      rows.add(row("stream open + first byte echoed (sequential)", bOpen, kOpen, "µs", false));

      double bRtt = microsPer(RTT_ROUNDS, () -> braid.rtt(RTT_ROUNDS));
      double kRtt = attempt(notes, "kwik round trip", () -> microsPer(RTT_ROUNDS, () -> kwik.rtt(RTT_ROUNDS)));
      rows.add(row("round trip, 64-byte message", bRtt, kRtt, "µs", false));
    }
    StringBuilder md = new StringBuilder();
    md.append("# QUIC transport benchmark\n\n");
    md.append("Braid over kwik 0.10.8 against kwik used directly (blocking streams, a thread per stream), same JVM,"
        + " loopback, ").append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
        .append(System.getProperty("java.version")).append(".\n\n");
    md.append("Braid writes with up to 4 × 64 KiB writes queued (futures); kwik is written with blocking"
        + " `OutputStream.write` of 64 KiB chunks. Heap per stream counts both ends (same JVM).\n\n");
    md.append("| measurement | Braid | kwik direct | unit | Braid / kwik |\n|---|---:|---:|---|---:|\n");
    for (String[] r : rows) {
      md.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    md.append("\nFor throughput a ratio above 1 means Braid is faster; for times, below 1 means Braid is faster.\n");
    for (String n : notes) {
      md.append("\n- ").append(n);
    }
    md.append("\n\n");
    md.append("## Streams held open (Braid)\n\n| open streams | threads with 10 streams | threads with N | heap per stream"
        + " (both ends) | opening N-10 streams (1 byte each way), whole batch |\n|---:|---:|---:|---:|---:|\n");
    for (int n : new int[] {100, 1_000, Integer.getInteger("quic.bench.maxStreams", 10_000)}) {
      QuicScaleTest.Measurement m = QuicScaleTest.measure(n);
      long ms = m.openMillis();
      md.append("| ").append(n).append(" | ").append(m.threadsAt10()).append(" | ").append(m.threadsAtN()).append(" | ")
          .append(m.heapBytesPerStreamPair()).append(" B | ").append(ms).append(" ms (").append(
              String.format(Locale.ROOT, "%.0f", (n - 10) * 1000.0 / Math.max(1, ms))).append(" streams/s) |\n");
    }
    return md.toString();
  }

  public static void main(String[] args) throws Exception {
    String md = run();
    System.out.println(md);
    Path out = Path.of("target", "benchmarks", "quic.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, md);
  }

  private static String[] row(String what, double braid, double kwik, String unit, boolean higherIsBetter) {
    return new String[] {what, fmt(braid), fmt(kwik), unit, String.format(Locale.ROOT, "%.2f", braid / kwik)};
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
  }

  interface Body {
    void run() throws Exception;
  }

  interface Measure {
    double run() throws Exception;
  }

  /** kwik used directly sometimes stalls or fails (see README); such a run is reported, not hidden. */
  private static double attempt(List<String> notes, String what, Measure m) throws Exception {
    try {
      return m.run();
    } catch (Exception e) {
      notes.add(what + " failed with " + e + " (kwik used directly, without Braid's workarounds)");
      return Double.NaN;
    }
  }

  private static void attempt(List<String> notes, String what, Body b) {
    try {
      b.run();
    } catch (Exception e) {
      notes.add(what + " failed with " + e + " (kwik used directly, without Braid's workarounds)");
    }
  }

  private static double mbPerSecond(long bytes, Body b) throws Exception {
    long t0 = System.nanoTime();
    b.run();
    double s = (System.nanoTime() - t0) / 1e9;
    return bytes / 1e6 / s;
  }

  private static double microsPer(int n, Body b) throws Exception {
    long t0 = System.nanoTime();
    b.run();
    return (System.nanoTime() - t0) / 1e3 / n;
  }

  // ---------------------------------------------------------------- Braid

  private static final class BraidSide implements AutoCloseable {
    final Transport server;
    final Transport client;
    final Connection conn;

    BraidSide() throws Exception {
      TransportOptions options = TransportOptions.builder().receiveWindow(1 << 20).build();
      server = new QuicTransportProvider().create(options);
      client = new QuicTransportProvider().create(options);
      Listener l = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> a = l.accept();
      conn = client.dial(l.address()).get(20, TimeUnit.SECONDS);
      a.get(20, TimeUnit.SECONDS).setStreamHandler(BraidSide::serve);
    }

    /** The server end, non-blocking: futures only. */
    static void serve(MuxedStream s) {
      ByteBuffer first = ByteBuffer.allocate(1);
      s.read(first).thenAccept(n -> {
        if (first.get(0) == 'S') {
          sink(s, ByteBuffer.allocate(CHUNK), 0);
        } else {
          echo(s, ByteBuffer.allocate(CHUNK));
        }
      });
    }

    static void sink(MuxedStream s, ByteBuffer buf, long count) {
      buf.clear();
      s.read(buf).thenAccept(n -> {
        if (n < 0) {
          s.write(ByteBuffer.allocate(8).putLong(0, count)).thenCompose(v -> s.closeWrite());
        } else {
          sink(s, buf, count + n);
        }
      });
    }

    static void echo(MuxedStream s, ByteBuffer buf) {
      buf.clear();
      s.read(buf).thenAccept(n -> {
        if (n < 0) {
          s.closeWrite();
        } else {
          buf.flip();
          ByteBuffer copy = ByteBuffer.allocate(n).put(buf).flip();
          s.write(copy).thenRun(() -> echo(s, buf));
        }
      });
    }

    void bulk(long bytes) throws Exception {
      sinkOne(bytes).get(300, TimeUnit.SECONDS);
    }

    CompletableFuture<Long> sinkOne(long bytes) throws Exception {
      MuxedStream s = conn.openStream().get(20, TimeUnit.SECONDS);
      return CompletableFuture.supplyAsync(() -> {
        try {
          s.write(ByteBuffer.wrap(new byte[] {'S'})).get(60, TimeUnit.SECONDS);
          byte[] chunk = new byte[CHUNK];
          // Asynchronous use: keep up to 4 writes (256 KiB) queued, as an application using futures would.
          java.util.ArrayDeque<CompletableFuture<Void>> inFlight = new java.util.ArrayDeque<>();
          for (long done = 0; done < bytes; done += CHUNK) {
            inFlight.add(s.write(ByteBuffer.wrap(chunk, 0, (int) Math.min(CHUNK, bytes - done))));
            if (inFlight.size() >= 4) {
              inFlight.poll().get(60, TimeUnit.SECONDS);
            }
          }
          for (CompletableFuture<Void> w : inFlight) {
            w.get(60, TimeUnit.SECONDS);
          }
          s.closeWrite().get(60, TimeUnit.SECONDS);
          ByteBuffer count = ByteBuffer.allocate(8);
          while (count.hasRemaining()) {
            if (s.read(count).get(60, TimeUnit.SECONDS) < 0) {
              break;
            }
          }
          long got = count.getLong(0);
          if (got != bytes) {
            throw new IllegalStateException("server counted " + got + " of " + bytes);
          }
          return got;
        } catch (Exception e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      });
    }

    void parallel(int streams, long each) throws Exception {
      List<CompletableFuture<Long>> all = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        all.add(sinkOne(each));
      }
      for (CompletableFuture<Long> f : all) {
        f.get(300, TimeUnit.SECONDS);
      }
    }

    void openFirstByte(int n) throws Exception {
      for (int i = 0; i < n; i++) {
        MuxedStream s = conn.openStream().get(20, TimeUnit.SECONDS);
        s.write(ByteBuffer.wrap(new byte[] {'E', 1})).get(20, TimeUnit.SECONDS);
        ByteBuffer one = ByteBuffer.allocate(1);
        s.read(one).get(20, TimeUnit.SECONDS);
        s.reset(0);
      }
    }

    void rtt(int rounds) throws Exception {
      MuxedStream s = conn.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {'E'})).get(20, TimeUnit.SECONDS);
      byte[] msg = new byte[64];
      ByteBuffer in = ByteBuffer.allocate(64);
      for (int i = 0; i < rounds; i++) {
        s.write(ByteBuffer.wrap(msg)).get(20, TimeUnit.SECONDS);
        in.clear();
        while (in.hasRemaining()) {
          s.read(in).get(20, TimeUnit.SECONDS);
        }
      }
      s.close();
    }

    @Override
    public void close() {
      client.close();
      server.close();
    }
  }

  // ---------------------------------------------------------------- kwik used directly

  private static final class KwikSide implements AutoCloseable {
    static final ThreadFactory SERVER_THREADS = DaemonThreads.factory("kwik-bench-stream-");
    static final ThreadFactory WRITER_THREADS = DaemonThreads.factory("kwik-bench-writer-");
    final ServerConnector connector;
    final QuicClientConnection conn;

    KwikSide() throws Exception {
      ListenerIdentity cert = ListenerIdentity.selfSigned("kwik-bench", java.util.List.of("localhost", "127.0.0.1"),
          java.util.List.of()); // kwik checks the dialed host against dNSName entries only, even an IP literal
      char[] password = ListenerIdentity.randomPassword();
      ServerConnectionConfig config = ServerConnectionConfig.builder()
          .maxIdleTimeout(60_000)
          .maxOpenPeerInitiatedBidirectionalStreams(4096)
          .maxBidirectionalStreamBufferSize(1 << 20)
          .maxUnidirectionalStreamBufferSize(1 << 20)
          .maxConnectionBufferSize(64L << 20)
          .retryRequired(false)
          .build();
      DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      connector = ServerConnector.builder().withSocket(socket)
          .withKeyStore(cert.toKeyStore(password), ListenerIdentity.keyStoreAlias(), password)
          .withConfiguration(config).withLogger(new NullLogger()).build();
      connector.registerApplicationProtocol("bench", new ApplicationProtocolConnectionFactory() {
        @Override
        public ApplicationProtocolConnection createConnection(String protocol, tech.kwik.core.QuicConnection c) {
          return new ApplicationProtocolConnection() {
            @Override
            public void acceptPeerInitiatedStream(QuicStream stream) {
              SERVER_THREADS.newThread(() -> serve(stream)).start();
            }
          };
        }

        @Override
        public int maxConcurrentPeerInitiatedBidirectionalStreams() {
          return 4096;
        }
      });
      connector.start();
      conn = QuicClientConnection.newBuilder().host("127.0.0.1").port(socket.getLocalPort())
          .applicationProtocol("bench")
          .customTrustManager(CertificatePins.trustOnly(cert.certificateHash()))
          .maxIdleTimeout(Duration.ofSeconds(60))
          .defaultStreamReceiveBufferSize((long) (1 << 20))
          .logger(new NullLogger()).build();
      conn.connect();
    }

    static void serve(QuicStream stream) {
      int mode = -1;
      try (InputStream in = stream.getInputStream(); OutputStream out = stream.getOutputStream()) {
        mode = in.read();
        byte[] buf = new byte[CHUNK];
        long count = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (mode == 'E') {
            out.write(buf, 0, n);
          } else {
            count += n;
          }
        }
        if (mode == 'S') {
          out.write(ByteBuffer.allocate(8).putLong(count).array());
        }
      } catch (IOException e) {
        if (mode != 'E') { // the open/rtt runs reset their echo streams when done
          System.err.println("kwik benchmark server stream " + stream.getStreamId() + " (mode " + (char) mode + "): " + e);
        }
      }
    }

    void bulk(long bytes) throws Exception {
      sinkOne(bytes).get(300, TimeUnit.SECONDS);
    }

    CompletableFuture<Long> sinkOne(long bytes) {
      CompletableFuture<Long> f = new CompletableFuture<>();
      WRITER_THREADS.newThread(() -> {
        try {
          QuicStream s = conn.createStream(true);
          OutputStream out = s.getOutputStream();
          out.write('S');
          byte[] chunk = new byte[CHUNK];
          for (long done = 0; done < bytes; done += CHUNK) {
            out.write(chunk, 0, (int) Math.min(CHUNK, bytes - done));
          }
          out.close();
          byte[] count = s.getInputStream().readNBytes(8);
          f.complete(ByteBuffer.wrap(count).getLong());
        } catch (Exception e) {
          f.completeExceptionally(e);
        }
      }).start();
      return f;
    }

    void parallel(int streams, long each) throws Exception {
      List<CompletableFuture<Long>> all = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        all.add(sinkOne(each));
      }
      for (CompletableFuture<Long> f : all) {
        f.get(300, TimeUnit.SECONDS);
      }
    }

    void openFirstByte(int n) throws Exception {
      for (int i = 0; i < n; i++) {
        QuicStream s = conn.createStream(true);
        s.getOutputStream().write(new byte[] {'E', 1});
        s.getInputStream().read();
        s.resetStream(0);
        s.abortReading(0);
      }
    }

    void rtt(int rounds) throws Exception {
      QuicStream s = conn.createStream(true);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write('E');
      byte[] msg = new byte[64];
      for (int i = 0; i < rounds; i++) {
        out.write(msg);
        in.readNBytes(64);
      }
      out.close();
    }

    @Override
    public void close() {
      conn.close();
      connector.close();
    }
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
