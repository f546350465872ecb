package dev.braid.cli;

import dev.braid.spi.BenchBaseline;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.TransportRegistry;
import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code braid bench}: brief §5's benchmarks for every available transport, each measured beside a
 * baseline in the same run, reported as ratios (these machines are noisy; absolute numbers alone mean
 * little). Writes {@code BENCHMARKS.md}-ready Markdown and an SVG chart.
 *
 * <p>Each transport is measured in a JVM of its own ({@code bench --column ID}, started by {@link ChildRun#relayed}
 * with this JVM's class path and options), so that this JVM loads no transport's native code (webrtc-java's prints at
 * the exit of every JVM that loaded it). The child runs the same code as a run in this JVM ({@code --in-process}),
 * Braid and its baselines side by side; its progress is relayed as printed and its rows come back exactly.
 */
final class Bench {
  private Bench() {}

  /** One figure: Braid's result, the baseline's, the unit, and whether higher is better. */
  record Row(String transport, String metric, Trials.Result braid, String baselineName, Trials.Result baseline,
      String unit, boolean higherIsBetter) {
    /** A figure measured once on each side. */
    Row(String transport, String metric, double braid, String baselineName, double baseline, String unit,
        boolean higherIsBetter) {
      this(transport, metric, Trials.Result.single(braid), baselineName, Trials.Result.single(baseline), unit,
          higherIsBetter);
    }

    /** The ratio of the medians. */
    double ratio() {
      return baseline.median() == 0 ? Double.NaN : braid.median() / baseline.median();
    }
  }

  /**
   * What one run measures: timed trials for the throughput and latency figures, counts for the rest. Tests of the
   * command itself set {@code -Dbraid.bench.tiny=true}: one trial of each figure, no warm-up, a few streams; its
   * numbers mean nothing.
   */
  record Sizes(Trials.Method trials, int multiStreams, int latencySamples, int idleStreams, int[] scaleSteps) {
    static Sizes of(boolean quick) {
      if (Boolean.getBoolean("braid.bench.tiny")) { // for tests of the command: every figure once, in seconds
        return new Sizes(new Trials.Method(java.time.Duration.ZERO, java.time.Duration.ofMillis(100), 1), 4, 5, 10,
            new int[] {1, 10});
      }
      return quick
          ? new Sizes(Trials.Method.of(true), 64, 100, 200, new int[] {1, 10, 100, 1000})
          : new Sizes(Trials.Method.of(false), 64, 500, 1000, new int[] {1, 10, 100, 1000, 10000});
    }
  }

  /** How long one transport's column may take in its own JVM: generous, a full run of every figure included. */
  private static final java.time.Duration COLUMN_LIMIT =
      java.time.Duration.ofMinutes(Long.getLong("braid.bench.minutesPerTransport", 60));

  static int run(TransportRegistry registry, List<String> args, PrintStream out, PrintStream err) throws Exception {
    Set<String> only = new LinkedHashSet<>();
    boolean quick = false;
    boolean wan = false;
    boolean inProcess = false;
    String column = null;
    Path outDir = Path.of("reports");
    for (int i = 0; i < args.size(); i++) {
      if (i + 1 >= args.size() && List.of("--transport", "--reports", "--column").contains(args.get(i))) {
        err.println(args.get(i) + " needs a value");
        return 2;
      }
      switch (args.get(i)) {
        case "--transport":
          only.add(args.get(++i));
          break;
        case "--quick":
          quick = true;
          break;
        case "--wan":
          wan = true;
          break;
        case "--in-process":
          inProcess = true;
          break;
        case "--column":
          column = args.get(++i);
          break;
        case "--reports":
          outDir = Path.of(args.get(++i));
          break;
        default:
          err.println("unknown option " + args.get(i));
          return 2;
      }
    }
    Sizes sizes = Sizes.of(quick);
    if (column != null) {
      return column(registry, column, sizes, out, err);
    }
    List<TransportProvider> candidates = new ArrayList<>();
    for (TransportProvider p : registry.all()) {
      // the reference transport is not a product
      if ((only.isEmpty() || only.contains(p.id())) && !p.id().startsWith("mem")) {
        candidates.add(p);
      }
    }
    // Each transport is measured in a JVM of its own, as conformance runs each column (webrtc-java's native library
    // prints at the exit of every JVM that loaded it, transport-webrtc/README.md), unless asked otherwise or unless the
    // class path cannot be handed on. Then this JVM loads no transport's native code: even whether a transport can run
    // here is asked in a child JVM. Only the transports asked for are checked.
    boolean fork = !inProcess && ChildRun.canFork(candidates);
    Files.createDirectories(outDir);
    Map<String, String> unavailable = fork ? ChildRun.availability(candidates, outDir)
        : Main.availability(candidates);
    List<TransportProvider> available = candidates.stream().filter(p -> !unavailable.containsKey(p.id())).toList();
    if (wan) { // in this JVM: it measures no WebRTC (WanBench says why), so it loads no webrtc-java
      return WanBench.run(available, WanBench.Method.of(quick), outDir, out);
    }
    List<Row> rows = new ArrayList<>();
    for (TransportProvider p : available) {
      if (fork) {
        if (!inChild(p.id(), quick, outDir, rows, out, err)) {
          return 1;
        }
        continue;
      }
      try {
        rows.addAll(measure(p, sizes, out));
      } catch (Exception | AssertionError e) {
        err.println("bench " + p.id() + " failed: " + e);
        e.printStackTrace(err);
        return 1;
      }
    }
    String md = markdown(rows, sizes);
    out.println();
    out.println(md);
    Files.writeString(outDir.resolve("bench.md"), md, StandardCharsets.UTF_8);
    String chart = svg(rows);
    Files.writeString(outDir.resolve("bench.svg"), chart, StandardCharsets.UTF_8);
    Files.writeString(outDir.resolve("bench.html"), BenchReport.html("Braid benchmarks: Braid beside its baselines, "
        + "same run", md, chart), StandardCharsets.UTF_8);
    out.println("written: " + outDir.resolve("bench.md") + ", " + outDir.resolve("bench.svg") + ", "
        + outDir.resolve("bench.html") + " (the table with the chart inline)");
    return 0;
  }

  /**
   * Every figure of one transport beside its baselines, measured in this JVM. The primary baseline gets every figure:
   * the transport's own library used directly, or for TCP (and a transport without one) the raw JDK socket, the
   * physical anchor. Other baselines of the transport (TCP: a plain Netty channel) get the throughput figures.
   */
  private static List<Row> measure(TransportProvider p, Sizes sizes, PrintStream out) throws Exception {
    List<BenchBaseline> registered = new ArrayList<>();
    for (BenchBaseline b : ServiceLoader.load(BenchBaseline.class, Bench.class.getClassLoader())) {
      if (b.transportId().equals(p.id())) {
        registered.add(b);
      }
    }
    BenchBaseline baseline = p.id().equals("tcp") || registered.isEmpty() ? new RawTcpBaseline() : registered.get(0);
    List<BenchBaseline> others = registered.stream().filter(b -> b != baseline).toList();
    out.println("bench " + p.id() + " against " + baseline.name() + " ...");
    return measure(p, baseline, others, sizes, out);
  }

  /**
   * One transport's column in a child JVM ({@code bench --column ID}, {@link ChildRun#relayed}): what it prints appears
   * here as it is printed, its rows and failed baselines come back as data lines. Its standard output and error, whole,
   * go to {@code reports/bench-ID.log}. False (after saying why) if the column failed.
   */
  private static boolean inChild(String id, boolean quick, Path outDir, List<Row> rows, PrintStream out,
      PrintStream err) throws IOException {
    Path log = outDir.resolve("bench-" + id + ".log");
    List<String> cmd = new ArrayList<>(List.of("bench", "--column", id, "--reports", outDir.toString()));
    if (quick) {
      cmd.add("--quick");
    }
    List<Row> got = new ArrayList<>();
    ChildRun.Ended ended = ChildRun.relayed(cmd, outDir.resolve("bench-" + id + ".relay"), log, out, err, COLUMN_LIMIT,
        line -> {
          if (line.startsWith(BASELINE_FAILED)) {
            baselineFailures.add(line.substring(BASELINE_FAILED.length()));
          } else {
            got.add(decode(line));
          }
        }, null);
    if (ended.reported() == null) {
      err.println("bench " + id + " failed: " + ended.how() + "; its output: " + log);
      return false;
    }
    rows.addAll(got);
    return ended.status() == 0;
  }

  /**
   * {@code bench --column ID}: one transport measured in this JVM, started by {@link #inChild}; the rows and failed
   * baselines go to the JVM that started it as data lines.
   */
  private static int column(TransportRegistry registry, String id, Sizes sizes, PrintStream out, PrintStream err) {
    Relay.Writer relay = Relay.child();
    if (relay == null) {
      err.println("--column is internal: bench measures each transport in a JVM it starts with it");
      return 2;
    }
    TransportProvider p = registry.all().stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
    if (p == null || !p.isAvailable()) {
      err.println("bench " + id + " failed: " + (p == null ? "no provider with this id in the measuring JVM"
          : "it cannot run in the measuring JVM: " + p.unavailabilityCause()));
      return 1;
    }
    List<Row> rows;
    try {
      rows = measure(p, sizes, out);
    } catch (Exception | AssertionError e) {
      err.println("bench " + p.id() + " failed: " + e);
      e.printStackTrace(err);
      return 1;
    }
    rows.forEach(r -> relay.data(encode(r)));
    baselineFailures.forEach(f -> relay.data(BASELINE_FAILED + f));
    return 0;
  }

  private static final String BASELINE_FAILED = "#baseline-failed ";

  /** A row as one data line: tab-separated fields, every number as {@link Double#toString} writes it (exact). */
  static String encode(Row r) {
    List<String> f = new ArrayList<>(List.of(r.transport(), r.metric()));
    addAll(f, r.braid());
    f.add(r.baselineName());
    addAll(f, r.baseline());
    f.addAll(List.of(r.unit(), Boolean.toString(r.higherIsBetter())));
    return String.join("\t", f.stream().map(x -> x.replace("\\", "\\\\").replace("\t", "\\t")
        .replace("\n", "\\n").replace("\r", "\\r")).toList());
  }

  private static void addAll(List<String> f, Trials.Result r) {
    for (double d : new double[] {r.median(), r.min(), r.max(), r.mbPerCpuSecond()}) {
      f.add(Double.toString(d));
    }
  }

  /** The row {@link #encode} wrote. */
  static Row decode(String line) {
    String[] raw = line.split("\t", -1);
    if (raw.length != 13) {
      throw new IllegalArgumentException("not a bench row (" + raw.length + " fields): " + line);
    }
    String[] f = new String[raw.length];
    for (int i = 0; i < raw.length; i++) {
      StringBuilder b = new StringBuilder();
      for (int k = 0; k < raw[i].length(); k++) {
        char c = raw[i].charAt(k);
        if (c == '\\' && k + 1 < raw[i].length()) {
          char e = raw[i].charAt(++k);
          b.append(e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e);
        } else {
          b.append(c);
        }
      }
      f[i] = b.toString();
    }
    return new Row(f[0], f[1], result(f, 2), f[6], result(f, 7), f[11], Boolean.parseBoolean(f[12]));
  }

  private static Trials.Result result(String[] f, int at) {
    return new Trials.Result(Double.parseDouble(f[at]), Double.parseDouble(f[at + 1]), Double.parseDouble(f[at + 2]),
        Double.parseDouble(f[at + 3]));
  }

  private static List<Row> measure(TransportProvider p, BenchBaseline base, List<BenchBaseline> others, Sizes sizes,
      PrintStream out) throws Exception {
    List<Row> rows = new ArrayList<>();
    TransportOptions options = TransportOptions.builder().maxStreams(Math.max(16384, sizes.idleStreams * 2))
        .maxPendingInboundStreams(16384).build();
    try (Transport server = p.create(options); Transport client = p.create(options)) {
      Listener listener = server.listen(p.testListenAddress());
      CompletableFuture<Connection> accepted = listener.accept();
      Connection c = client.dial(listener.address()).get(30, TimeUnit.SECONDS);
      Connection s = accepted.get(30, TimeUnit.SECONDS);
      s.setStreamHandler(Bench::echoOrSink);
      base.start();
      try {
        // warm-up, then measure each figure beside its baseline
        oneStream(c, 8L << 20);
        baseline(base, "warm-up", () -> base.oneStreamThroughput(8L << 20), out);

        Trials.Method m = sizes.trials;
        Trials.Result braid1 = Trials.throughput(bytes -> oneStream(c, bytes), 8L << 20, m);
        Trials.Result base1 = Trials.throughput(
            bytes -> baseline(base, "1 stream", () -> base.oneStreamThroughput(bytes), out), 8L << 20, m);
        rows.add(new Row(p.id(), "throughput, 1 stream", braid1, base.name(), base1, "MB/s", true));
        out.printf("  1 stream: %s MB/s vs %s MB/s%n", braid1.show(), base1.show());

        int k = sizes.multiStreams;
        Trials.Result braid64 = Trials.throughput(bytes -> manyStreams(c, k, bytes / k), k * (256L << 10), m);
        Trials.Result base64 = Trials.throughput(bytes -> baseline(base, k + " streams",
            () -> base.manyStreamsThroughput(k, bytes / k), out), k * (256L << 10), m);
        rows.add(new Row(p.id(), "throughput, " + k + " streams", braid64, base.name(), base64, "MB/s", true));
        out.printf("  %d streams: %s MB/s vs %s MB/s%n", k, braid64.show(), base64.show());

        Trials.Result braidOpen = Trials.latency(() -> openFirstByte(c, sizes.latencySamples), m);
        Trials.Result baseOpen = Trials.latency(() -> baseline(base, "open + first byte",
            () -> base.openFirstByteMicros(sizes.latencySamples), out), m);
        rows.add(new Row(p.id(), "open + first byte (median)", braidOpen, base.name(), baseOpen, "µs", false));
        out.printf("  open+first byte: %s µs vs %s µs%n", braidOpen.show(), baseOpen.show());

        Trials.Result braidRtt = Trials.latency(() -> roundTrip(c, sizes.latencySamples * 4), m);
        Trials.Result baseRtt = Trials.latency(() -> baseline(base, "round trip",
            () -> base.roundTripMicros(sizes.latencySamples * 4), out), m);
        rows.add(new Row(p.id(), "round trip, 64 B (median), caller blocks", braidRtt, base.name(), baseRtt, "µs",
            false));
        out.printf("  round trip, caller blocks: %s µs vs %s µs%n", braidRtt.show(), baseRtt.show());
        Trials.Result braidRttEvents = Trials.latency(() -> roundTripEventDriven(c, sizes.latencySamples * 4), m);
        rows.add(new Row(p.id(), "round trip, 64 B (median), event-driven caller", braidRttEvents, base.name(), baseRtt,
            "µs", false));
        out.printf("  round trip, event-driven caller: %s µs vs %s µs%n", braidRttEvents.show(), baseRtt.show());
        for (BenchBaseline other : others) {
          rows.addAll(secondBaseline(p.id(), other, braid1, braid64, braidRtt, k, sizes, out));
        }
        if (p.id().equals("tcp")) {
          rows.addAll(npmYamux(client, braid1, braid64, k, m, out));
        }

        double perStream = memoryPerIdleStream(c, sizes.idleStreams);
        int idle = idleMeasured;
        waitUntilNoStreams(c);
        double basePer = baseline(base, "idle streams", () -> base.memoryPerIdleStreamBytes(Math.min(idle, 1000)), out);
        rows.add(new Row(p.id(), "heap per idle open stream (" + idle + " open)", perStream, base.name(), basePer,
            "bytes", false));
        out.printf("  heap per idle stream: %.0f B vs %.0f B%n", perStream, basePer);

        double first = Double.NaN;
        for (int n : sizes.scaleSteps) {
          waitUntilNoStreams(c);
          double us;
          try {
            us = openCost(c, n);
          } catch (Ceiling ceiling) {
            out.printf("  open cost with %d streams: not measured, %s%n", n, ceiling.getMessage());
            rows.add(new Row(p.id(), "open cost at " + n + " streams: refused at " + ceiling.reached
                + " (protocol ceiling)", Double.NaN, p.id() + " at 1 stream", first, "µs/stream", false));
            break;
          }
          if (Double.isNaN(first)) {
            first = us;
          }
          rows.add(new Row(p.id(), "open cost at " + n + " streams", us, p.id() + " at 1 stream", first, "µs/stream", false));
          out.printf("  open cost with %d streams: %.1f µs/stream%n", n, us);
        }
      } finally {
        base.stop();
        c.close();
        s.close();
        listener.close();
      }
    }
    return rows;
  }

  /**
   * A second baseline of the transport, for the throughput figures and the round trip of a blocking caller (a plain
   * Netty channel hands each message to its event loop too: that splits Netty's hand-offs from yamux's cost).
   */
  private static List<Row> secondBaseline(String id, BenchBaseline other, Trials.Result braid1, Trials.Result braidK,
      Trials.Result braidRtt, int k, Sizes sizes, PrintStream out) throws Exception {
    Trials.Method m = sizes.trials;
    other.start();
    try {
      Trials.Result o1 = Trials.throughput(
          bytes -> baseline(other, "1 stream", () -> other.oneStreamThroughput(bytes), out), 8L << 20, m);
      Trials.Result oK = Trials.throughput(bytes -> baseline(other, k + " streams",
          () -> other.manyStreamsThroughput(k, bytes / k), out), k * (256L << 10), m);
      out.printf("  1 stream: %s MB/s vs %s MB/s (%s)%n", braid1.show(), o1.show(), other.name());
      out.printf("  %d streams: %s MB/s vs %s MB/s (%s)%n", k, braidK.show(), oK.show(), other.name());
      Trials.Result oRtt = Trials.latency(() -> baseline(other, "round trip",
          () -> other.roundTripMicros(sizes.latencySamples * 4), out), m);
      out.printf("  round trip, caller blocks: %s µs vs %s µs (%s)%n", braidRtt.show(), oRtt.show(), other.name());
      return List.of(new Row(id, "throughput, 1 stream", braid1, other.name(), o1, "MB/s", true),
          new Row(id, "throughput, " + k + " streams", braidK, other.name(), oK, "MB/s", true),
          new Row(id, "round trip, 64 B (median), caller blocks", braidRtt, other.name(), oRtt, "µs", false));
    } finally {
      other.stop();
    }
  }

  /**
   * The same protocol's anchor implementation: the npm yamux muxer Node to Node over loopback TCP (1 stream and
   * {@code k} streams), and Braid's TCP transport sending to it. Skipped, with the reason, where node or its packages
   * are missing.
   */
  private static List<Row> npmYamux(Transport client, Trials.Result braid1, Trials.Result braidK, int k,
      Trials.Method m, PrintStream out) throws Exception {
    String name = "npm yamux 8.0.1, Node → Node";
    NodeYamux.Found found = NodeYamux.locate();
    if (found.whyNot() != null) {
      out.println("  npm yamux baseline not measured: " + found.whyNot());
      return List.of(new Row("tcp", "throughput, 1 stream (npm yamux: " + found.whyNot() + ")", braid1.median(),
          name, Double.NaN, "MB/s", true));
    }
    List<Row> rows = new ArrayList<>();
    try (NodeYamux node = NodeYamux.start(found.script())) {
      Trials.Result n1 = Trials.Result.of(node.nodeToNode(1, m), Double.NaN);
      rows.add(new Row("tcp", "throughput, 1 stream", braid1, name, n1, "MB/s", true));
      out.printf("  1 stream: %s MB/s vs %s MB/s (%s)%n", braid1.show(), n1.show(), name);
      Trials.Result nK = Trials.Result.of(node.nodeToNode(k, m), Double.NaN);
      rows.add(new Row("tcp", "throughput, " + k + " streams", braidK, name, nK, "MB/s", true));
      out.printf("  %d streams: %s MB/s vs %s MB/s (%s)%n", k, braidK.show(), nK.show(), name);
      Connection toNode = client.dial(node.sinkAddress()).get(30, TimeUnit.SECONDS);
      try {
        Trials.Result braidToNode = Trials.throughput(bytes -> oneStream(toNode, bytes), 8L << 20, m);
        rows.add(new Row("tcp", "throughput, 1 stream, Braid → npm yamux", braidToNode, name, n1, "MB/s", true));
        out.printf("  1 stream Braid → npm yamux: %s MB/s vs %s MB/s (%s)%n", braidToNode.show(), n1.show(), name);
      } finally {
        toNode.close();
      }
    }
    return rows;
  }

  /**
   * Streams whose first byte is 'E' are echoed, 'I' streams are left idle (no pending read, no buffer: the
   * idle-stream memory figure is Braid's own), every other stream is read to the end and discarded.
   */
  /**
   * The echo and sink loops never block, so they opt in to run on the thread that completes each future (a direct
   * executor with an {@code *Async} method), as docs/threads.md allows: without it each continuation costs a hand-off
   * to a Braid event thread, two per echoed message.
   */
  private static final java.util.concurrent.Executor ON_THE_COMPLETING_THREAD = Runnable::run;

  private static void echoOrSink(MuxedStream st) {
    ByteBuffer first = ByteBuffer.allocate(1);
    st.read(first).whenCompleteAsync((n, t) -> {
      if (t != null || n < 0) {
        if (n != null && n < 0) {
          st.closeWrite();
        }
        return;
      }
      byte kind = first.get(0);
      if (kind == 'I') {
        IDLE_ARRIVED.incrementAndGet();
        return;
      }
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      if (kind == 'E') {
        st.write(ByteBuffer.wrap(new byte[] {'E'})).whenCompleteAsync((v, t2) -> {
          if (t2 == null) {
            pump(st, buf, true);
          }
        }, ON_THE_COMPLETING_THREAD);
      } else {
        pump(st, buf, false);
      }
    }, ON_THE_COMPLETING_THREAD);
  }

  private static void pump(MuxedStream st, ByteBuffer buf, Boolean echo) {
    buf.clear();
    st.read(buf).whenCompleteAsync((n, t) -> {
      if (t != null) {
        return; // reset or connection ended: the benchmark side reports it
      }
      if (n < 0) {
        st.closeWrite();
        return;
      }
      boolean e = echo != null ? echo : buf.get(0) == 'E';
      if (e) {
        buf.flip();
        byte[] copy = new byte[buf.remaining()];
        buf.get(copy);
        st.write(ByteBuffer.wrap(copy)).whenCompleteAsync((v, t2) -> {
          if (t2 == null) {
            pump(st, buf, true);
          }
        }, ON_THE_COMPLETING_THREAD);
      } else {
        pump(st, buf, false);
      }
    }, ON_THE_COMPLETING_THREAD);
  }

  private static double oneStream(Connection c, long bytes) throws Exception {
    MuxedStream s = c.openStream().get(30, TimeUnit.SECONDS);
    byte[] chunk = new byte[256 * 1024];
    Arrays.fill(chunk, (byte) 'S');
    long t0 = System.nanoTime();
    for (long left = bytes; left > 0; left -= chunk.length) {
      s.write(ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, left))).get(60, TimeUnit.SECONDS);
    }
    s.closeWrite().get(60, TimeUnit.SECONDS);
    s.read(ByteBuffer.allocate(1)).get(60, TimeUnit.SECONDS); // the sink closes after reading everything
    return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  private static double manyStreams(Connection c, int n, long perStream) throws Exception {
    List<MuxedStream> streams = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      streams.add(c.openStream().get(30, TimeUnit.SECONDS));
    }
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'S');
    long t0 = System.nanoTime();
    List<CompletableFuture<Integer>> done = new ArrayList<>();
    for (MuxedStream s : streams) {
      done.add(writeLoop(s, chunk, perStream).thenCompose(v -> s.closeWrite())
          .thenCompose(v -> s.read(ByteBuffer.allocate(1))));
    }
    for (CompletableFuture<Integer> d : done) {
      d.get(120, TimeUnit.SECONDS);
    }
    return n * perStream / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  private static CompletableFuture<Void> writeLoop(MuxedStream s, byte[] chunk, long left) {
    if (left <= 0) {
      return CompletableFuture.completedFuture(null);
    }
    int n = (int) Math.min(chunk.length, left);
    // Opted in to the completing thread, like the server's loops: the loop never blocks.
    return s.write(ByteBuffer.wrap(chunk, 0, n)).thenComposeAsync(v -> writeLoop(s, chunk, left - n),
        ON_THE_COMPLETING_THREAD);
  }

  private static double openFirstByte(Connection c, int samples) throws Exception {
    double[] us = new double[samples];
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      MuxedStream s = c.openStream().get(30, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {'E'})).get(30, TimeUnit.SECONDS);
      s.read(ByteBuffer.allocate(1)).get(30, TimeUnit.SECONDS);
      us[i] = (System.nanoTime() - t0) / 1e3;
      s.close();
    }
    return median(us);
  }

  private static double roundTrip(Connection c, int samples) throws Exception {
    MuxedStream s = c.openStream().get(30, TimeUnit.SECONDS);
    byte[] msg = new byte[64];
    Arrays.fill(msg, (byte) 'E');
    ByteBuffer in = ByteBuffer.allocate(64);
    double[] us = new double[samples];
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      s.write(ByteBuffer.wrap(msg)).get(30, TimeUnit.SECONDS);
      in.clear();
      while (in.hasRemaining()) {
        if (s.read(in).get(30, TimeUnit.SECONDS) < 0) {
          throw new IOException("echo ended early");
        }
      }
      us[i] = (System.nanoTime() - t0) / 1e3;
    }
    s.close();
    return median(us);
  }

  /**
   * The round trip as an event-driven application makes it: each step continues on the thread that completed the
   * previous one (the transport's I/O thread, opted in with a direct executor, docs/threads.md), so no message is
   * handed to a waiting thread. {@link #roundTrip} is the same exchange by a thread that blocks on each future.
   */
  private static double roundTripEventDriven(Connection c, int samples) throws Exception {
    MuxedStream s = c.openStream().get(30, TimeUnit.SECONDS);
    byte[] msg = new byte[64];
    Arrays.fill(msg, (byte) 'E');
    ByteBuffer in = ByteBuffer.allocate(64);
    double[] us = new double[samples];
    CompletableFuture<Void> done = new CompletableFuture<>();
    new Object() {
      private int i;
      private long t0;

      void send() {
        if (i == samples) {
          done.complete(null);
          return;
        }
        t0 = System.nanoTime();
        in.clear();
        s.write(ByteBuffer.wrap(msg)).whenCompleteAsync((v, t) -> {
          if (t != null) {
            done.completeExceptionally(t);
          }
        }, ON_THE_COMPLETING_THREAD);
        receive();
      }

      void receive() {
        s.read(in).whenCompleteAsync((n, t) -> {
          if (t != null || n < 0) {
            done.completeExceptionally(t != null ? t : new IOException("echo ended early"));
          } else if (in.hasRemaining()) {
            receive();
          } else {
            us[i++] = (System.nanoTime() - t0) / 1e3;
            send();
          }
        }, ON_THE_COMPLETING_THREAD);
      }
    }.send();
    done.get(60, TimeUnit.SECONDS);
    s.close();
    return median(us);
  }

  /** One baseline measurement. */
  @FunctionalInterface
  interface Measure {
    double run() throws Exception;
  }

  /**
   * Runs a baseline measurement up to {@value #BASELINE_ATTEMPTS} times (kwik 0.10.8 used directly stalls now
   * and then, brief §7; its baseline then dials a fresh connection, so a retry starts clean). Every failed attempt
   * is printed; when all fail the figure is recorded as NaN ("baseline failed") with the error, never hidden,
   * and the run goes on.
   */
  static double baseline(BenchBaseline base, String what, Measure m, PrintStream out) {
    Exception last = null;
    for (int attempt = 1; attempt <= BASELINE_ATTEMPTS; attempt++) {
      try {
        return m.run();
      } catch (Exception e) {
        last = e;
        out.printf("  baseline %s, %s: attempt %d failed: %s%n", base.name(), what, attempt, e);
      }
    }
    baselineFailures.add(base.name() + ", " + what + ": " + last);
    return Double.NaN;
  }

  static final int BASELINE_ATTEMPTS = 3;

  /** Baseline measurements that failed every attempt in this run, with their errors. */
  static final List<String> baselineFailures = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A transport refused a stream: the protocol's ceiling was reached before the benchmark's count. */
  static final class Ceiling extends Exception {
    final int reached;

    Ceiling(int reached, Throwable cause) {
      super("the transport refused stream " + (reached + 1) + ": " + cause.getMessage(), cause);
      this.reached = reached;
    }
  }

  private static MuxedStream openOrCeiling(Connection c, int index) throws Exception {
    try {
      return c.openStream().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof dev.braid.StreamRefusedException) {
        throw new Ceiling(index, e.getCause());
      }
      throw e;
    }
  }

  /** Idle ('I') streams the server side has taken in so far. */
  private static final java.util.concurrent.atomic.AtomicInteger IDLE_ARRIVED = new java.util.concurrent.atomic.AtomicInteger();

  private static double memoryPerIdleStream(Connection c, int n) throws Exception {
    int arrivedBefore = IDLE_ARRIVED.get();
    long before = usedHeap();
    List<MuxedStream> streams = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream s;
      try {
        s = openOrCeiling(c, i);
      } catch (Ceiling ceiling) {
        if (i == 0) {
          throw ceiling;
        }
        break; // measure what the transport allows (WebRTC: 511 data channels per side)
      }
      s.write(ByteBuffer.wrap(new byte[] {'I'})).get(30, TimeUnit.SECONDS); // make it exist on both ends
      streams.add(s);
    }
    // Both ends hold every stream once the server side took in its 'I' (bounded: a lost stream fails the figure).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (IDLE_ARRIVED.get() - arrivedBefore < streams.size()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("only " + (IDLE_ARRIVED.get() - arrivedBefore) + " of " + streams.size()
            + " idle streams reached the server side within 30 s");
      }
      Thread.sleep(5);
    }
    long after = usedHeap();
    for (MuxedStream s : streams) {
      s.reset(0);
    }
    idleMeasured = streams.size();
    return Math.max(0, after - before) / (double) streams.size();
  }

  /** How many idle streams the last memory measurement held (fewer than asked at a protocol ceiling). */
  private static int idleMeasured;

  private static double openCost(Connection c, int n) throws Exception {
    List<CompletableFuture<MuxedStream>> opens = new ArrayList<>(n);
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      opens.add(c.openStream());
    }
    List<MuxedStream> streams = new ArrayList<>(n);
    Ceiling ceiling = null;
    for (CompletableFuture<MuxedStream> o : opens) {
      try {
        streams.add(o.get(120, TimeUnit.SECONDS));
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof dev.braid.StreamRefusedException)) {
          throw e;
        }
        if (ceiling == null) {
          ceiling = new Ceiling(streams.size(), e.getCause());
        }
      }
    }
    if (ceiling != null) {
      for (MuxedStream s : streams) {
        s.reset(0);
      }
      throw ceiling;
    }
    double us = (System.nanoTime() - t0) / 1e3 / n;
    for (MuxedStream s : streams) {
      s.reset(0);
    }
    return us;
  }

  /** Waits (bounded) until streams reset by the previous step are gone, so each step starts from zero. */
  private static void waitUntilNoStreams(Connection c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!c.streams().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(500); // the peer's side and the protocol (SCTP stream ids) free them a little later
  }

  static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  static String markdown(List<Row> rows, Sizes sizes) {
    return BenchReport.markdown(rows, sizes, baselineFailures, BASELINE_ATTEMPTS);
  }

  static String svg(List<Row> rows) {
    return BenchReport.svg(rows);
  }

  /** Keeps {@link URI} imported for Javadoc readers: addresses come from {@link Listener#address()}. */
  static URI address(Listener l) {
    return l.address();
  }
}
