package dev.braid.cli;

import dev.braid.cli.ConformanceRunner.Outcome;
import dev.braid.cli.ConformanceRunner.Status;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs the kit for one transport in a child JVM with the same class path, reading its outcomes from a
 * file as they are written. A transport whose JVM dies (a crash in native code, a hang past the limit)
 * gets a FAIL row saying so, and the other transports are unaffected.
 */
final class ChildRun {
  private static final Duration LIMIT = Duration.ofMinutes(Long.getLong("braid.conformance.minutesPerTransport", 30));

  private ChildRun() {}

  /**
   * Whether a child JVM on this JVM's class path finds every one of {@code providers}: each provider's class
   * <em>and its service registration</em> come from the class path (a jar added by a class loader made in-process,
   * as in tests, is not seen by a child even when the provider class itself is). Compares the registered types
   * without instantiating a provider a second time.
   */
  static boolean canFork(java.util.Collection<? extends dev.braid.spi.TransportProvider> providers) {
    if (ProcessHandle.current().info().command().isEmpty()) {
      return false;
    }
    java.util.Set<Class<?>> registered = new java.util.HashSet<>();
    java.util.ServiceLoader.load(dev.braid.spi.TransportProvider.class, ClassLoader.getSystemClassLoader()).stream()
        .forEach(p -> registered.add(p.type()));
    return providers.stream().allMatch(p -> registered.contains(p.getClass()));
  }

  static List<Outcome> run(KitSubject p, Path reports, PrintStream out, boolean tty, boolean quick,
      java.util.Set<String> rules) throws IOException {
    Path outcomes = reports.resolve("outcomes-" + p.fileName() + ".tsv");
    Path log = reports.resolve("conformance-" + p.fileName() + ".log");
    Files.deleteIfExists(outcomes);
    String java = ProcessHandle.current().info().command().orElseThrow();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-XX:+HeapDumpOnOutOfMemoryError",
        "-cp", System.getProperty("java.class.path")));
    for (String prop : List.of("braid.seed", "braid.kit.waitSeconds", "braid.randomized.episodes", "braid.race.rounds",
        "braid.h8.streams", "braid.churn.streams", "braid.kit.ruleTimeoutSeconds", "braid.kit.threadGraceSeconds")) {
      Optional.ofNullable(System.getProperty(prop)).ifPresent(v -> cmd.add("-D" + prop + "=" + v));
    }
    cmd.addAll(List.of(Main.class.getName(), "conformance", "--in-process"));
    cmd.addAll(p.isPair() ? List.of("--pair", p.dialer().id() + "," + p.listener().id())
        : List.of("--transport", p.id()));
    cmd.addAll(List.of("--reports", reports.toString(), "--outcomes", outcomes.toString()));
    if (quick) {
      cmd.add("--quick");
    }
    rules.forEach(r -> cmd.addAll(List.of("--rule", r)));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + LIMIT.toNanos();
    int seen = 0;
    try {
      while (!child.waitFor(500, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          child.descendants().forEach(ProcessHandle::destroyForcibly);
          child.destroyForcibly();
          break;
        }
        if (tty) {
          int now = lines(outcomes);
          if (now != seen) {
            seen = now;
            out.printf("\r%-8s %3d tests done", p.id(), now);
            out.flush();
          }
        }
      }
      child.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      child.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    if (tty) {
      out.print("\r" + " ".repeat(40) + "\r");
    }
    List<Outcome> result = new ArrayList<>();
    boolean done = false;
    if (Files.exists(outcomes)) {
      for (String line : Files.readAllLines(outcomes, StandardCharsets.UTF_8)) {
        if (line.equals("#done")) {
          done = true;
        } else if (line.startsWith("#ops ")) {
          ConformanceRunner.CHILD_OPERATIONS.addAndGet(Long.parseLong(line.substring(5).trim()));
        } else if (!line.isBlank()) {
          result.add(ConformanceRunner.decode(line));
        }
      }
    }
    if (!done || child.exitValue() > 1) {
      String why = child.isAlive() ? "did not finish within " + LIMIT.toMinutes() + " min"
          : "its JVM ended with exit code " + child.exitValue() + (child.exitValue() == 134 ? " (crashed in native code)" : "");
      result.add(new Outcome(p.id(), "W1", "the transport's run ends cleanly", "run", Status.FAIL,
          "the run for '" + p.id() + "' " + why + " after " + result.size() + " tests; see " + log
              + File.separator.replace(File.separator, ""), Duration.ZERO, "required"));
    }
    return result;
  }

  private static int lines(Path f) {
    try {
      return Files.exists(f) ? (int) Files.lines(f).count() : 0;
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }
}
