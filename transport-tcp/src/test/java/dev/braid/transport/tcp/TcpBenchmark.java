package dev.braid.transport.tcp;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.DaemonThreads;
import dev.braid.transport.tcp.internal.TcpTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Throughput and latency of Braid's TCP transport (yamux over Netty) against a raw JDK socket over
 * loopback, measured side by side in one run; prints a Markdown table of ratios and writes it to
 * {@code target/benchmarks/tcp.md}. Not a test: run it with {@code mvn -B -o -pl transport-tcp test -Pbench}
 * (or its {@code main}). Sizes: {@code -Dbench.mib=1024} (bytes per throughput run), {@code -Dbench.runs=3}.
 */
public final class TcpBenchmark {
  private static final long T = 300;
  private static final int CHUNK = 256 * 1024;
  private static String ioName = "?";

  private TcpBenchmark() {}

  /** Runs every scenario and writes the table. */
  public static void main(String[] args) throws Exception {
    long mib = Long.getLong("bench.mib", 1024);
    int runs = Integer.getInteger("bench.runs", 3);
    long total = mib * 1024 * 1024;
    List<String[]> rows = new ArrayList<>();
    String io = System.getProperty("bench.io", "auto");
    try (BraidPair plain = BraidPair.open(TransportOptions.builder().property(TcpOptions.IO.name(), io).build());
        BraidPair wide = BraidPair.open(TransportOptions.builder().property(TcpOptions.IO.name(), io)
            .receiveWindow(4 * 1024 * 1024).build());
        BraidPair tls = BraidPair.open(TransportOptions.builder().property(TcpOptions.IO.name(), io)
            .property(TcpOptions.TLS.name(), "true").build())) {
      ioName = ((TcpTransport) plain.a).ioName();
      double braid1 = median(runs, () -> braidThroughput(plain, 1, total));
      double braid1Cpu = lastCpuMedian;
      double raw1 = median(runs, () -> rawThroughput(1, total));
      double raw1Cpu = lastCpuMedian;
      rows.add(row("1 stream, " + mib + " MiB (default 256 KiB window)", braid1, raw1, "MB/s", braid1Cpu, raw1Cpu));
      double braidWide = median(runs, () -> braidThroughput(wide, 1, total));
      rows.add(row("1 stream, " + mib + " MiB, receiveWindow 4 MiB", braidWide, raw1, "MB/s", lastCpuMedian, raw1Cpu));
      double braid64 = median(runs, () -> braidThroughput(plain, 64, total));
      double braid64Cpu = lastCpuMedian;
      double raw64 = median(runs, () -> rawThroughput(64, total));
      rows.add(row("64 streams on 1 connection vs 64 sockets, " + mib + " MiB total", braid64, raw64, "MB/s",
          braid64Cpu, lastCpuMedian));
      double tls1 = median(runs, () -> braidThroughput(tls, 1, total / 4));
      rows.add(row("1 stream over TLS 1.3 (JDK), " + mib / 4 + " MiB", tls1, raw1, "MB/s", lastCpuMedian, raw1Cpu));
      double braidRtt = median(runs, () -> braidRoundTrips(plain, 5_000));
      double rawRtt = median(runs, () -> rawRoundTrips(5_000));
      rows.add(row("round trips of 64-byte messages", braidRtt, rawRtt, "round trips/s"));
      double braidOpen = median(runs, () -> braidOpenFirstByte(plain, 2_000));
      double rawOpen = median(runs, () -> rawConnectFirstByte(2_000));
      rows.add(row("stream open + first byte echoed (vs TCP connect + first byte)", braidOpen, rawOpen, "per s"));
    }
    StringBuilder md = new StringBuilder();
    md.append("# Braid TCP transport benchmark\n\n");
    md.append("Braid on Netty ").append(ioName).append(". Run ").append(Instant.now()).append(" on ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, Java ").append(System.getProperty("java.version")).append(", median of ").append(runs)
        .append(" runs after a warm-up. Loopback only. Baseline: a raw JDK `java.net.Socket` from the same run.")
        .append(" \"MB per CPU-s\": bytes moved per second of CPU time of the whole process (sender and receiver),")
        .append(" which is steadier than wall-clock rates on a shared machine.\n\n");
    md.append("| scenario | Braid tcp (yamux) | raw JDK socket | Braid / raw | unit "
        + "| Braid MB per CPU-s | raw MB per CPU-s | CPU efficiency Braid / raw |\n");
    md.append("|---|---:|---:|---:|---|---:|---:|---:|\n");
    for (String[] r : rows) {
      md.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    System.out.println(md);
    Path out = Path.of("target", "benchmarks", "tcp.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
    System.out.println("written to " + out.toAbsolutePath());
  }

  private static String[] row(String name, double braid, double raw, String unit) {
    return new String[] {name, fmt(braid), fmt(raw), String.format(Locale.ROOT, "%.2f", braid / raw), unit, "", "", ""};
  }

  private static String[] row(String name, double braid, double raw, String unit, double braidCpu, double rawCpu) {
    return new String[] {name, fmt(braid), fmt(raw), String.format(Locale.ROOT, "%.2f", braid / raw), unit,
        fmt(braidCpu), fmt(rawCpu), String.format(Locale.ROOT, "%.2f", braidCpu / rawCpu)};
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
  }

  interface Measure {
    double run() throws Exception;
  }

  /** CPU efficiency (MB per CPU-second) of the runs of the last {@link #median} call, median. */
  private static double lastCpuMedian;

  private static double median(int runs, Measure m) throws Exception {
    m.run(); // warm-up
    double[] r = new double[runs];
    double[] cpu = new double[runs];
    for (int i = 0; i < runs; i++) {
      lastMbPerCpuSecond = Double.NaN;
      r[i] = m.run();
      cpu[i] = lastMbPerCpuSecond;
    }
    Arrays.sort(r);
    Arrays.sort(cpu);
    lastCpuMedian = cpu[runs / 2];
    return r[runs / 2];
  }

  // ---------------------------------------------------------------- Braid

  /** Two transports, one connection; the accepting side sinks or echoes by the stream's first byte. */
  static final class BraidPair implements AutoCloseable {
    final Transport a;
    final Transport b;
    final Connection dialer;
    final Connection acceptor;
    final ExecutorService pool = DaemonThreads.pool("bench-braid-", 0);

    private BraidPair(Transport a, Transport b, Connection dialer, Connection acceptor) {
      this.a = a;
      this.b = b;
      this.dialer = dialer;
      this.acceptor = acceptor;
    }

    static BraidPair open(TransportOptions options) throws Exception {
      Transport a = new TcpTransportProvider().create(options);
      Transport b = new TcpTransportProvider().create(options);
      Listener l = b.listen(URI.create("tcp://127.0.0.1:0"));
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(T, TimeUnit.SECONDS);
      BraidPair p = new BraidPair(a, b, d, acc.get(T, TimeUnit.SECONDS));
      l.close();
      p.acceptor.setStreamHandler(s -> p.pool.execute(() -> serve(s)));
      return p;
    }

    private static void serve(MuxedStream s) {
      try (InputStream in = s.inputStream(); OutputStream out = s.outputStream()) {
        int mode = in.read();
        byte[] buf = new byte[CHUNK];
        if (mode == 'S') { // sink, then one byte back
          long n = 0;
          for (int k; (k = in.read(buf)) >= 0; ) {
            n += k;
          }
          out.write(1);
        } else { // echo each read back at once
          for (int k; (k = in.read(buf)) >= 0; ) {
            out.write(buf, 0, k);
          }
        }
      } catch (IOException e) {
        s.reset(1);
      }
    }

    @Override
    public void close() {
      dialer.close();
      a.close();
      b.close();
      pool.shutdownNow();
    }
  }

  private static double braidThroughput(BraidPair p, int streams, long total) throws Exception {
    long per = total / streams;
    List<MuxedStream> opened = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      MuxedStream s = p.dialer.openStream().get(T, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {'S'})).get(T, TimeUnit.SECONDS);
      opened.add(s);
    }
    long cpu = cpuNanos();
    long start = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (MuxedStream s : opened) {
      done.add(p.pool.submit(() -> {
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
        for (long left = per; left > 0; left -= CHUNK) {
          chunk.clear().limit((int) Math.min(CHUNK, left));
          s.write(chunk).get(T, TimeUnit.SECONDS);
        }
        s.closeWrite().get(T, TimeUnit.SECONDS);
        ByteBuffer ack = ByteBuffer.allocate(1);
        if (s.read(ack).get(T, TimeUnit.SECONDS) != 1) {
          throw new IOException("no acknowledgement");
        }
        s.close();
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get(T, TimeUnit.SECONDS);
    }
    double rate = mbPerSecond(per * streams, System.nanoTime() - start);
    recordCpu(per * streams, cpu);
    return rate;
  }

  private static double braidRoundTrips(BraidPair p, int n) throws Exception {
    MuxedStream s = p.dialer.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {'E'})).get(T, TimeUnit.SECONDS);
    byte[] msg = new byte[64];
    ByteBuffer in = ByteBuffer.allocate(64);
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      s.write(ByteBuffer.wrap(msg)).get(T, TimeUnit.SECONDS);
      in.clear();
      while (in.hasRemaining()) {
        if (s.read(in).get(T, TimeUnit.SECONDS) < 0) {
          throw new IOException("eof");
        }
      }
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    s.close();
    return rate;
  }

  private static double braidOpenFirstByte(BraidPair p, int n) throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      MuxedStream s = p.dialer.openStream().get(T, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {'E', 7})).get(T, TimeUnit.SECONDS);
      ByteBuffer one = ByteBuffer.allocate(1);
      if (s.read(one).get(T, TimeUnit.SECONDS) != 1) {
        throw new IOException("eof");
      }
      s.reset(0);
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  // ---------------------------------------------------------------- raw JDK sockets

  private static double rawThroughput(int sockets, long total) throws Exception {
    long per = total / sockets;
    ExecutorService pool = DaemonThreads.pool("bench-raw-", 0);
    try (ServerSocket server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress())) {
      List<Future<?>> sinks = new ArrayList<>();
      List<Socket> clients = new ArrayList<>();
      for (int i = 0; i < sockets; i++) {
        Socket c = new Socket();
        c.setTcpNoDelay(true);
        c.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
        clients.add(c);
        Socket acc = server.accept();
        sinks.add(pool.submit(() -> {
          try (Socket a = acc; InputStream in = a.getInputStream(); OutputStream out = a.getOutputStream()) {
            byte[] buf = new byte[CHUNK];
            while (in.read(buf) >= 0) {
              // sink
            }
            out.write(1);
          }
          return null;
        }));
      }
      long cpu = cpuNanos();
      long start = System.nanoTime();
      List<Future<?>> writers = new ArrayList<>();
      for (Socket c : clients) {
        writers.add(pool.submit(() -> {
          try (Socket s = c) {
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[CHUNK];
            for (long left = per; left > 0; left -= CHUNK) {
              out.write(buf, 0, (int) Math.min(CHUNK, left));
            }
            s.shutdownOutput();
            if (s.getInputStream().read() != 1) {
              throw new IOException("no acknowledgement");
            }
          }
          return null;
        }));
      }
      for (Future<?> f : writers) {
        f.get(T, TimeUnit.SECONDS);
      }
      double r = mbPerSecond(per * sockets, System.nanoTime() - start);
      for (Future<?> f : sinks) {
        f.get(T, TimeUnit.SECONDS);
      }
      recordCpu(per * sockets, cpu);
      return r;
    } finally {
      pool.shutdownNow();
    }
  }

  private static double rawRoundTrips(int n) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket a = server.accept()) {
      c.setTcpNoDelay(true);
      a.setTcpNoDelay(true);
      Thread echo = new Thread(() -> {
        try {
          InputStream in = a.getInputStream();
          OutputStream out = a.getOutputStream();
          byte[] buf = new byte[64];
          for (int k; (k = in.read(buf)) >= 0; ) {
            out.write(buf, 0, k);
          }
        } catch (IOException e) {
          // the client closed
        }
      });
      echo.setDaemon(true);
      echo.start();
      byte[] msg = new byte[64];
      byte[] back = new byte[64];
      InputStream in = c.getInputStream();
      OutputStream out = c.getOutputStream();
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        out.write(msg);
        in.readNBytes(back, 0, 64);
      }
      return n / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double rawConnectFirstByte(int n) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket a = server.accept()) {
            a.getOutputStream().write(a.getInputStream().read());
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
          c.setTcpNoDelay(true);
          c.getOutputStream().write(7);
          if (c.getInputStream().read() != 7) {
            throw new IOException("bad echo");
          }
        }
      }
      return n / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double mbPerSecond(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }

  /** MB moved per second of CPU time of this whole process (both ends), last throughput run. */
  private static double lastMbPerCpuSecond;

  private static long cpuNanos() {
    // Reflection: the test sources compile inside this module, which does not read java.management.
    try {
      Object os = Class.forName("java.lang.management.ManagementFactory").getMethod("getOperatingSystemMXBean")
          .invoke(null);
      return (long) Class.forName("com.sun.management.OperatingSystemMXBean").getMethod("getProcessCpuTime").invoke(os);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return -1;
    }
  }

  private static void recordCpu(long bytes, long cpuStart) {
    long used = cpuNanos() - cpuStart;
    lastMbPerCpuSecond = cpuStart < 0 || used <= 0 ? Double.NaN : bytes / 1e6 / (used / 1e9);
  }
}
