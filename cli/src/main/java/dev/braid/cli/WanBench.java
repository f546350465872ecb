package dev.braid.cli;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.PathEmulator;
import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code braid bench --wan}: throughput across an emulated wide-area path ({@link PathEmulator}: a one-way delay, a
 * bandwidth cap and a router-sized queue each way) at round trips of 10, 50 and 100 ms, for every transport whose
 * traffic can cross a loopback proxy, beside one raw TCP socket through the same emulator in the same run.
 *
 * <p>Method: each figure is measured at the receiver (bytes the sink read) over timed trials of fixed duration, after
 * a warm-up long enough for windows and congestion control to open; the median of the trials is reported with their
 * spread. The baseline is one TCP connection carrying as much as it can: what the path itself allows.
 *
 * <p>WebRTC is not measured here: its ICE candidates are the namespace's addresses, and no candidate can point at a
 * loopback proxy. The TCP transport is measured twice: as configured (receive-window auto-tuning on) and with its
 * window fixed at 256 KiB, which is what every stream had before auto-tuning.
 */
final class WanBench {
  private static final Executor DIRECT = Runnable::run;
  private static final int CHUNK = 64 * 1024;

  private WanBench() {}

  /** How long one run takes: warm-up and trial durations, trials per figure, the path's bandwidth. */
  record Method(Duration warmUp, Duration trial, int trials, long megabitsPerSecond, int[] rttsMillis, int streams) {
    static Method of(boolean quick) {
      return quick
          ? new Method(Duration.ofSeconds(2), Duration.ofSeconds(2), 3, 100, new int[] {10, 50, 100}, 64)
          : new Method(Duration.ofSeconds(4), Duration.ofSeconds(5), 5, 100, new int[] {10, 50, 100}, 64);
    }
  }

  /** One figure: median and spread of the trials, in MB/s. */
  record Figure(double median, double min, double max) {
    static Figure of(double[] trials) {
      double[] s = trials.clone();
      Arrays.sort(s);
      double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
      return new Figure(median, s[0], s[s.length - 1]);
    }

    String show() {
      return String.format(Locale.ROOT, "%.1f (%.1f–%.1f)", median, min, max);
    }
  }

  record Row(int rttMillis, String transport, int streams, Figure braid, Figure raw) {
    double ratio() {
      return braid.median() / raw.median();
    }
  }

  /** Measures {@code available} (the transports asked for that can run here, as {@link Bench#run} found them). */
  static int run(List<TransportProvider> available, Method method, Path outDir, PrintStream out) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (int rtt : method.rttsMillis()) {
      PathEmulator.Profile profile = PathEmulator.Profile.rtt(Duration.ofMillis(rtt), method.megabitsPerSecond());
      Figure raw = rawTcp(profile, method);
      out.printf(Locale.ROOT, "rtt %d ms, %d Mbit/s: raw TCP %s MB/s%n", rtt, method.megabitsPerSecond(), raw.show());
      for (TransportProvider p : available) {
        if (p.id().startsWith("webrtc")) {
          out.println("  " + p.id() + ": not measured (its ICE candidates cannot point at a loopback proxy)");
          continue;
        }
        List<Variant> variants = new ArrayList<>(List.of(new Variant(p.id(), TransportOptions.DEFAULTS)));
        if (p.id().equals("quic")) {
          variants.add(new Variant("quic, 4 MiB stream window", TransportOptions.builder().receiveWindow(4 << 20)
              .property("quic.connectionWindow", Integer.toString(64 << 20)).build()));
        }
        if (p.id().equals("tcp")) {
          variants.add(new Variant("tcp, fixed 256 KiB window", TransportOptions.builder()
              .property("tcp.maxStreamWindow", Integer.toString(256 * 1024)).build()));
        }
        for (Variant v : variants) {
          for (int streams : new int[] {1, method.streams()}) {
            Figure f = braid(p, v.options(), profile, streams, method, out);
            rows.add(new Row(rtt, v.name(), streams, f, raw));
            out.printf(Locale.ROOT, "  %s, %d stream%s: %s MB/s, %.2f of raw TCP%n", v.name(), streams,
                streams == 1 ? "" : "s", f.show(), f.median() / raw.median());
          }
        }
      }
    }
    String md = markdown(rows, method);
    out.println();
    out.println(md);
    Files.createDirectories(outDir);
    Files.writeString(outDir.resolve("bench-wan.md"), md, StandardCharsets.UTF_8);
    String chart = svg(rows);
    Files.writeString(outDir.resolve("bench-wan.svg"), chart, StandardCharsets.UTF_8);
    Files.writeString(outDir.resolve("bench-wan.html"), BenchReport.html("Braid across an emulated wide-area path, "
        + "beside raw TCP through the same path", md, chart), StandardCharsets.UTF_8);
    out.println("written: " + outDir.resolve("bench-wan.md") + ", " + outDir.resolve("bench-wan.svg") + ", "
        + outDir.resolve("bench-wan.html") + " (the table with the chart inline)");
    return 0;
  }

  private record Variant(String name, TransportOptions options) {}

  /** The chart of the ratios to raw TCP through the same path, one bar per figure (the loopback chart's form). */
  static String svg(List<Row> rows) {
    return BenchReport.svg(rows.stream().map(r -> new Bench.Row(r.transport(), r.rttMillis() + " ms RTT, "
        + r.streams() + (r.streams() == 1 ? " stream" : " streams"), r.braid().median(), "raw TCP, same path",
        r.raw().median(), "MB/s", true)).toList());
  }

  /** Braid: {@code streams} writers on one connection through the path, a sink counting what arrives. */
  private static Figure braid(TransportProvider p, TransportOptions options, PathEmulator.Profile profile,
      int streams, Method method, PrintStream out) throws Exception {
    AtomicLong received = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    try (Transport server = p.create(options); Transport client = p.create(options)) {
      Listener listener = server.listen(p.testListenAddress());
      InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.address().getPort());
      boolean udp = p.id().startsWith("quic");
      try (PathEmulator path = udp ? PathEmulator.udp(target, profile) : PathEmulator.tcp(target, profile)) {
        CompletableFuture<Connection> accepted = listener.accept();
        Connection c = client.dial(path.rewrite(listener.address())).get(60, TimeUnit.SECONDS);
        Connection s = accepted.get(60, TimeUnit.SECONDS);
        s.setStreamHandler(st -> sink(st, ByteBuffer.allocate(CHUNK), received));
        byte[] chunk = new byte[CHUNK];
        for (int i = 0; i < streams; i++) {
          MuxedStream w = c.openStream().get(60, TimeUnit.SECONDS);
          writeUntil(w, chunk, stop);
        }
        try {
          return Figure.of(trials(received, method));
        } finally {
          if (udp) {
            out.printf(Locale.ROOT, "    the path dropped %d datagrams (its queue was full)%n", path.dropped());
          }
          stop.set(true);
          c.abort(new ConnectionClosedException("the benchmark is over", false));
          s.abort(new ConnectionClosedException("the benchmark is over", false));
          listener.close();
        }
      }
    }
  }

  /** One raw TCP connection through the path, written as fast as it goes. */
  private static Figure rawTcp(PathEmulator.Profile profile, Method method) throws Exception {
    AtomicLong received = new AtomicLong();
    try (ServerSocket sink = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        PathEmulator path = PathEmulator.tcp((InetSocketAddress) sink.getLocalSocketAddress(), profile)) {
      Thread reader = new Thread(() -> {
        try (Socket s = sink.accept(); InputStream in = s.getInputStream()) {
          byte[] buf = new byte[CHUNK];
          for (int n; (n = in.read(buf)) >= 0; ) {
            received.addAndGet(n);
          }
        } catch (IOException e) {
          // the writer closed: the benchmark is over
        }
      }, "braid-bench-raw-sink");
      reader.setDaemon(true);
      reader.start();
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer = new Thread(() -> {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), path.port());
            OutputStream o = s.getOutputStream()) {
          byte[] chunk = new byte[CHUNK];
          while (!stop.get()) {
            o.write(chunk);
          }
        } catch (IOException e) {
          // the path closed
        }
      }, "braid-bench-raw-writer");
      writer.setDaemon(true);
      writer.start();
      try {
        return Figure.of(trials(received, method));
      } finally {
        stop.set(true);
        path.close();
        writer.join(10_000);
        reader.join(10_000);
      }
    }
  }

  /** After the warm-up, the receiver's rate over each trial, in MB/s. */
  private static double[] trials(AtomicLong received, Method method) throws InterruptedException {
    Thread.sleep(method.warmUp().toMillis());
    double[] mbs = new double[method.trials()];
    for (int i = 0; i < mbs.length; i++) {
      long b0 = received.get();
      long t0 = System.nanoTime();
      Thread.sleep(method.trial().toMillis());
      mbs[i] = (received.get() - b0) / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }
    return mbs;
  }

  private static void writeUntil(MuxedStream w, byte[] chunk, AtomicBoolean stop) {
    if (stop.get()) {
      return;
    }
    w.write(ByteBuffer.wrap(chunk)).whenCompleteAsync((v, t) -> {
      if (t == null) {
        writeUntil(w, chunk, stop);
      }
    }, DIRECT);
  }

  private static void sink(MuxedStream st, ByteBuffer buf, AtomicLong received) {
    buf.clear();
    st.read(buf).whenCompleteAsync((n, t) -> {
      if (t == null && n >= 0) {
        received.addAndGet(n);
        sink(st, buf, received);
      }
    }, DIRECT);
  }

  static String markdown(List<Row> rows, Method method) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Path: %d Mbit/s each way, queue of one round trip; warm-up %d s, %d trials of"
        + " %d s, median (min–max) in MB/s, at the receiver. Baseline: one raw TCP socket through the same path.%n%n",
        method.megabitsPerSecond(), method.warmUp().toSeconds(), method.trials(), method.trial().toSeconds()));
    b.append("| RTT | transport | streams | Braid MB/s | raw TCP MB/s | ratio |\n|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %d ms | %s | %d | %s | %s | %.2f |%n", r.rttMillis(), r.transport(),
          r.streams(), r.braid().show(), r.raw().show(), r.ratio()));
    }
    return b.toString();
  }
}
