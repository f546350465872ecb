package dev.braid.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The npm yamux muxer (js-libp2p's {@code @chainsafe/libp2p-yamux}, the one the interop tests use) as a baseline for
 * the TCP transport: {@code transport-tcp/src/test/node/yamux-bench.mjs} run by {@code node}, as a sink Braid can
 * dial and as a Node-to-Node source. Found under {@code -Dbraid.root} (set by {@code bin/braid}) or the working
 * directory; {@link #locate} says why when it cannot run (no node, the npm packages not installed: {@code bin/setup}).
 *
 * <p><b>Thread safety.</b> Not thread-safe; {@link #close()} stops the sink process.
 */
final class NodeYamux implements AutoCloseable {
  private static final Pattern PORT = Pattern.compile("\"port\":(\\d+)");
  private static final Pattern MBPS = Pattern.compile("\"mbps\":([0-9.eE+-]+)");

  private final Path script;
  private final Process sink;
  private final int port;

  private NodeYamux(Path script, Process sink, int port) {
    this.script = script;
    this.sink = sink;
    this.port = port;
  }

  /** Where the script is, or why it cannot run. */
  record Found(Path script, String whyNot) {}

  static Found locate() {
    Path root = Path.of(System.getProperty("braid.root", "."));
    Path dir = root.resolve("transport-tcp/src/test/node");
    Path script = dir.resolve("yamux-bench.mjs");
    if (!Files.isRegularFile(script)) {
      return new Found(null, "no " + script + " (run bin/braid from a Braid checkout)");
    }
    if (!Files.isDirectory(dir.resolve("node_modules/@chainsafe/libp2p-yamux"))) {
      return new Found(null, "the npm packages are not installed in " + dir + " (bin/setup installs them)");
    }
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return new Found(null, "node --version failed");
      }
    } catch (IOException e) {
      return new Found(null, "no node on the PATH: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Found(null, "interrupted");
    }
    return new Found(script, null);
  }

  /** Starts the sink. */
  static NodeYamux start(Path script) throws IOException, InterruptedException {
    Process sink = new ProcessBuilder("node", script.getFileName().toString(), "sink")
        .directory(script.getParent().toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(sink.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    Matcher m = line == null ? null : PORT.matcher(line);
    if (m == null || !m.find()) {
      sink.destroyForcibly();
      throw new IOException("the npm yamux sink did not report its port: " + line);
    }
    return new NodeYamux(script, sink, Integer.parseInt(m.group(1)));
  }

  /** The sink's address, for Braid's TCP transport to dial. */
  URI sinkAddress() {
    return URI.create("tcp://127.0.0.1:" + port);
  }

  /**
   * Node to Node over {@code streams} streams of one connection to the sink, by the bench's method: transfers for the
   * warm-up time, then {@code method.count()} trials sized to last about the trial time; MB/s of each trial.
   */
  double[] nodeToNode(int streams, Trials.Method method) throws IOException, InterruptedException {
    int trials = method.count();
    Process source = new ProcessBuilder("node", script.getFileName().toString(), "source", Integer.toString(port),
        Integer.toString(streams), Double.toString(method.warmUp().toMillis() / 1e3),
        Double.toString(method.trial().toMillis() / 1e3), Integer.toString(trials))
        .directory(script.getParent().toFile()).redirectErrorStream(true).start();
    List<Double> rates = new ArrayList<>();
    StringBuilder seen = new StringBuilder();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(source.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        seen.append(line).append('\n');
        Matcher m = MBPS.matcher(line);
        if (m.find()) {
          rates.add(Double.parseDouble(m.group(1)));
        }
      }
    }
    if (!source.waitFor(120, TimeUnit.SECONDS)) {
      source.destroyForcibly();
      throw new IOException("the npm yamux source did not exit");
    }
    if (source.exitValue() != 0 || rates.size() != trials) {
      throw new IOException("the npm yamux source failed (exit " + source.exitValue() + "): " + seen);
    }
    return rates.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Override
  public void close() {
    sink.destroy();
    try {
      if (!sink.waitFor(10, TimeUnit.SECONDS)) {
        sink.destroyForcibly();
      }
    } catch (InterruptedException e) {
      sink.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
