package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.cli.thirdparty.ThirdPartyTransportProvider;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir
  Path tmp;

  private record Run(int status, String out, String err) {}

  private Run run(ClassLoader loader, String... args) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), loader);
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A jar holding only the third-party provider and its service registration, as an outside author ships it. */
  private ClassLoader withThirdPartyJar() throws Exception {
    return withProviderJar(ThirdPartyTransportProvider.class);
  }

  private ClassLoader withProviderJar(Class<?> provider) throws Exception {
    return ProviderJars.loaderWith(tmp, provider);
  }

  @Test
  void twoImplementationsOfOneSchemeGetCrossImplementationColumnsBothWays() throws Exception {
    ClassLoader loader = withProviderJar(dev.braid.cli.thirdparty.SecondMemProvider.class);
    Run list = run(loader, "transports");
    assertTrue(list.out().matches("(?s).*\\nmem://\\s+mem\\s+mem, mem-second\\n.*"), list.out());

    Run kit = run(loader, "conformance", "--transport", "mem", "--transport", "mem-second", "--quick", "--reports",
        tmp.resolve("r").toString());
    assertEquals(0, kit.status(), kit.out() + kit.err());
    assertTrue(kit.out().contains("cross-implementation pairs (dialer→listener): [mem→mem-second, mem-second→mem]"),
        kit.out());
    for (String column : new String[] {"mem", "mem-second", "mem→mem-second", "mem-second→mem"}) {
      assertTrue(kit.out().matches("(?s).*\\n" + java.util.regex.Pattern.quote(column)
          + "\\s+done in \\d+ s: \\d+ tests, 0 failed.*"), column + ": " + kit.out());
    }
    String md = Files.readString(tmp.resolve("r/conformance.md"));
    assertTrue(md.contains("mem→mem-second") && md.contains("mem-second→mem"), md);
    assertTrue(Files.list(tmp.resolve("r/junit/mem-second-to-mem")).findAny().isPresent(), "JUnit XML per pair");

    Run one = run(loader, "conformance", "--pair", "mem-second,mem", "--quick", "--reports",
        tmp.resolve("p").toString());
    assertEquals(0, one.status(), one.out() + one.err());
    Run bad = run(loader, "conformance", "--pair", "mem-second", "--reports", tmp.resolve("p").toString());
    assertEquals(2, bad.status());
    assertTrue(bad.err().contains("--pair takes two transport ids"), bad.err());
  }

  @Test
  void aTransportJarOnTheClassPathIsFoundAndTestedWithoutCodeChanges() throws Exception {
    ClassLoader loader = withThirdPartyJar();
    Run list = run(loader, "transports");
    assertEquals(0, list.status());
    assertTrue(list.out().contains("third-party"), list.out());
    assertTrue(list.out().contains("mem"), list.out());
    assertTrue(list.out().matches("(?s).*\\nthird-party://\\s+third-party\\s+third-party\\n.*"),
        "the scheme table says what each scheme resolves to: " + list.out());

    Run kit = run(loader, "conformance", "--transport", "third-party", "--reports", tmp.resolve("r").toString());
    assertEquals(0, kit.status(), kit.out() + kit.err());
    assertTrue(kit.out().contains("third-party"), kit.out());
    // Passes every rule; only the kill rules are skipped, with the reason: the kit cannot kill an unknown scheme's
    // connection without a word (a tcp or quic test address gets the kit's proxy).
    assertTrue(kit.out().matches("(?s).*third-party\\s+\\d+ passed, 0 failed, \\d+ skipped.*"), kit.out());
    assertTrue(kit.out().contains("cannot kill a connection without a word"), kit.out());
    String md = Files.readString(tmp.resolve("r/conformance.md"));
    assertTrue(md.contains("| H6 |") && md.contains("third-party"), md);
    assertTrue(Files.exists(tmp.resolve("r/conformance.html")));
    assertTrue(Files.list(tmp.resolve("r/junit/third-party")).findAny().isPresent(), "JUnit XML written");
  }

  @Test
  void unknownCommandsAndTransportsAreUsageErrors() throws Exception {
    assertEquals(2, run(getClass().getClassLoader(), "frobnicate").status());
    Run r = run(getClass().getClassLoader(), "conformance", "--transport", "nope");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("no transport with id 'nope'"), r.err());
  }

  @Test
  void echoClientAndServerTalkOverAnyTransport() throws Exception {
    ClassLoader loader = getClass().getClassLoader();
    java.io.PipedOutputStream serverOut = new java.io.PipedOutputStream();
    java.io.BufferedReader serverLines = new java.io.BufferedReader(new java.io.InputStreamReader(
        new java.io.PipedInputStream(serverOut), StandardCharsets.UTF_8));
    java.util.concurrent.atomic.AtomicReference<Throwable> serverFailure = new java.util.concurrent.atomic.AtomicReference<>();
    Thread server = new Thread(() -> {
      try {
        // --in-process: the in-memory transport connects only within one JVM (by default each runs in a child JVM)
        Main.run(new String[] {"echo-server", "--in-process", "mem://echo:41999"},
            new PrintStream(serverOut, true, StandardCharsets.UTF_8),
            System.err, loader);
      } catch (Throwable t) {
        serverFailure.set(t); // the server runs until the JVM ends; anything it throws is reported below
      }
    }, "echo-server");
    server.setDaemon(true);
    server.start();
    String first = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return serverLines.readLine();
      } catch (java.io.IOException e) {
        return "read failed: " + e;
      }
    }).get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(first != null && first.startsWith("echo-server listening on mem://echo:41999"),
        first + " / " + serverFailure.get());
    Run r = run(loader, "echo-client", "--in-process", "mem://echo:41999", "hello braid");
    assertEquals(0, r.status(), r.out() + r.err());
    assertEquals("hello braid\n", r.out());
  }

  @Test
  void aBenchRowCrossesFromItsJvmExactly() {
    Bench.Row row = new Bench.Row("quic-netty", "throughput, 64 streams\twith a tab", new Trials.Result(141.23456789,
        137.2, Double.NaN, 77.0000001), "Netty \\ QUIC\ndirect", Trials.Result.single(Double.NaN), "µs", false);
    assertEquals(row, Bench.decode(Bench.encode(row)));
    assertTrue(!Bench.encode(row).contains("\n"), "one line");
  }

  @Test
  void theRelayHandsOnWholeRecordsInOrder() throws Exception {
    Path f = tmp.resolve("relay");
    Relay.Writer w = Relay.Writer.open(f);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream out = w.stream(Relay.OUT, log);
    PrintStream err = w.stream(Relay.ERR, log);
    Relay.Reader r = new Relay.Reader(f);
    ByteArrayOutputStream gotOut = new ByteArrayOutputStream();
    ByteArrayOutputStream gotErr = new ByteArrayOutputStream();
    java.util.List<String> data = new java.util.ArrayList<>();
    PrintStream o = new PrintStream(gotOut, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(gotErr, true, StandardCharsets.UTF_8);
    out.printf("bench %s against %s ...%n", "webrtc", "webrtc-java");
    r.poll(o, e, data::add);
    assertEquals("bench webrtc against webrtc-java ...\n", gotOut.toString(StandardCharsets.UTF_8));
    byte[] big = new byte[200_000]; // more than one record and more than one read
    new java.util.Random(1).nextBytes(big);
    out.write(big);
    err.println("failed: µ");
    w.data("a\tb");
    // a record cut where the writer was when the reader looked: held back until whole
    Files.write(f, new byte[] {'O', '3', '\n', 'x'}, java.nio.file.StandardOpenOption.APPEND);
    r.poll(o, e, data::add);
    assertEquals(200_000 + 37, gotOut.size());
    assertEquals("failed: µ\n", gotErr.toString(StandardCharsets.UTF_8));
    assertEquals(java.util.List.of("a\tb"), data);
    assertEquals(null, r.status());
    Files.write(f, new byte[] {'y', 'z'}, java.nio.file.StandardOpenOption.APPEND);
    w.exit(3);
    r.poll(o, e, data::add);
    assertTrue(gotOut.toString(StandardCharsets.ISO_8859_1).endsWith("xyz"));
    assertEquals(3, r.status());
    assertEquals(200_000 + 37 + "failed: µ\n".getBytes(StandardCharsets.UTF_8).length, log.size(), "the log has it all");
  }

  @Test
  void benchRendersRatiosAsMarkdownAndSvg() {
    java.util.List<Bench.Row> rows = java.util.List.of(
        new Bench.Row("tcp", "throughput, 1 stream", 900, "raw", 1800, "MB/s", true),
        new Bench.Row("tcp", "round trip", 60, "raw", 30, "µs", false));
    String md = Bench.markdown(rows, Bench.Sizes.of(true));
    assertTrue(md.contains("| tcp | throughput, 1 stream | 900.0 MB/s | raw | 1800.0 MB/s | 0.50 (higher is better) |"), md);
    java.util.List<Bench.Row> trials = java.util.List.of(new Bench.Row("tcp", "throughput, 1 stream",
        Trials.Result.of(new double[] {900, 800, 1000}, 400), "raw", Trials.Result.of(new double[] {1800}, 500),
        "MB/s", true));
    assertTrue(Bench.markdown(trials, Bench.Sizes.of(true)).contains(
        "| tcp | throughput, 1 stream | 900.0 (800.0–1000.0) MB/s | raw | 1800.0 MB/s | 0.50 (higher is better) "
            + "| 400 / 500 |"), md);
    String svg = Bench.svg(rows);
    assertTrue(svg.startsWith("<svg") && svg.contains("0.50") && svg.contains("2.00"), svg);
  }

  @Test
  void benchHtmlEmbedsItsChartAndTable() {
    java.util.List<Bench.Row> rows = java.util.List.of(
        new Bench.Row("tcp", "throughput, 1 stream", 900, "raw <socket>", 1800, "MB/s", true),
        new Bench.Row("quic", "round trip", 60, "kwik direct", 30, "µs", false));
    String svg = Bench.svg(rows);
    String html = BenchReport.html("Braid benchmarks", Bench.markdown(rows, Bench.Sizes.of(true)), svg);
    assertTrue(html.contains(svg), "the chart is inline, whole: " + html);
    assertTrue(html.indexOf("<svg") < html.indexOf("<table>"), "chart first, then the table");
    assertTrue(html.contains("<th>transport</th><th>metric</th><th>Braid</th>"), html);
    assertTrue(html.contains("<td>tcp</td><td>throughput, 1 stream</td><td class=\"num\">900.0 MB/s</td>"
        + "<td>raw &lt;socket&gt;</td>"), "cells escaped, numbers right-aligned: " + html);
    assertTrue(html.contains("<p>Method: each throughput figure"), "the method note: " + html);
    assertTrue(!html.contains("<img") && !html.contains("bench.svg") && !html.contains("<link")
        && !html.contains("<script"), "nothing linked or fetched: " + html);
  }

  @Test
  void wanBenchRendersRatiosToRawTcpAsMarkdownAndSvg() {
    java.util.List<WanBench.Row> rows = java.util.List.of(
        new WanBench.Row(50, "tcp", 1, new WanBench.Figure(12.5, 12.4, 12.5), new WanBench.Figure(12.5, 12.5, 12.5)),
        new WanBench.Row(50, "quic", 1, new WanBench.Figure(5, 4.8, 5.1), new WanBench.Figure(12.5, 12.5, 12.5)));
    String md = WanBench.markdown(rows, WanBench.Method.of(true));
    assertTrue(md.contains("| 50 ms | quic | 1 | 5.0 (4.8–5.1) | 12.5 (12.5–12.5) | 0.40 |"), md);
    String svg = WanBench.svg(rows);
    assertTrue(svg.startsWith("<svg") && svg.contains("quic: 50 ms RTT, 1 stream") && svg.contains("0.40")
        && svg.contains("1.00"), svg);
  }

  static void unused(OutputStream o) {}
}
