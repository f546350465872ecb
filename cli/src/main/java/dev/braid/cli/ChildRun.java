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
 * gets a FAIL row saying so, and the other transports are unaffected. Also asks a child JVM which transports can run
 * here ({@link #availability}), and runs any other command in one with its Java output relayed ({@link #relayed}:
 * bench's columns, echo-server, echo-client).
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
    boolean over = false;
    try {
      String shown = "";
      while (!child.waitFor(500, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          stop(child);
          over = true;
          break;
        }
        if (tty) {
          // The child says which test runs (#running lines): the same one-line progress as a run in this JVM.
          String now = running(outcomes);
          if (!now.equals(shown)) {
            shown = now;
            out.printf("\r%-8s %-72.72s", p.id(), now);
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
      out.print("\r" + " ".repeat(82) + "\r");
    }
    List<Outcome> result = new ArrayList<>();
    boolean done = false;
    if (Files.exists(outcomes)) {
      for (String line : Files.readAllLines(outcomes, StandardCharsets.UTF_8)) {
        if (line.equals("#done")) {
          done = true;
        } else if (line.startsWith("#ops ")) {
          ConformanceRunner.CHILD_OPERATIONS.addAndGet(Long.parseLong(line.substring(5).trim()));
        } else if (line.startsWith(ConformanceRunner.RUNNING)) {
          continue; // progress, shown while the child ran
        } else if (!line.isBlank()) {
          result.add(ConformanceRunner.decode(line));
        }
      }
    }
    if (!done || child.exitValue() > 1) {
      String why = over || child.isAlive() ? "did not finish within " + LIMIT.toMinutes() + " min" : ended(child);
      result.add(new Outcome(p.id(), "W1", "the transport's run ends cleanly", "run", Status.FAIL,
          "the run for '" + p.id() + "' " + why + " after " + result.size() + " tests; see " + log
              + File.separator.replace(File.separator, ""), Duration.ZERO, "required"));
    }
    return result;
  }

  /**
   * What the child runs now, from its outcome file: its last {@code #running} line ("12/81 H1 ... [dialer opens]"),
   * or the number of tests done so far while it has written none; empty before the file exists.
   */
  private static String running(Path f) {
    List<String> lines;
    try {
      lines = Files.exists(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
    } catch (IOException | java.io.UncheckedIOException e) {
      return "(progress unreadable: " + e.getMessage() + ")";
    }
    int done = 0;
    String last = "";
    for (String line : lines) {
      if (line.startsWith(ConformanceRunner.RUNNING)) {
        last = line.substring(ConformanceRunner.RUNNING.length());
      } else if (!line.startsWith("#") && !line.isBlank()) {
        done++;
      }
    }
    return !last.isEmpty() ? last : lines.isEmpty() ? "starting (in a JVM of its own)" : done + " tests done";
  }

  /**
   * Which of {@code providers} cannot run here, by id, with the reason, asked in a child JVM ({@code braid availability})
   * so that this JVM loads none of their native code. The child's own output goes to {@code reports/availability.log}.
   * A provider the child did not answer for (its JVM crashed while checking it, or hung) is unavailable, saying so.
   */
  static java.util.Map<String, String> availability(List<? extends dev.braid.spi.TransportProvider> providers,
      Path reports) throws IOException {
    Files.createDirectories(reports);
    Path answers = reports.resolve("availability.tsv");
    Path log = reports.resolve("availability.log");
    Files.deleteIfExists(answers);
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
        System.getProperty("java.class.path"), Main.class.getName(), "availability", "--out", answers.toString()));
    providers.forEach(p -> cmd.add(p.id()));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    String ended;
    try {
      if (child.waitFor(5, TimeUnit.MINUTES)) {
        ended = ended(child);
      } else {
        stop(child);
        ended = "it did not finish within 5 min";
      }
    } catch (InterruptedException e) {
      stop(child);
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while checking which transports can run");
    }
    java.util.Map<String, String> answered = new java.util.LinkedHashMap<>();
    if (Files.exists(answers)) {
      for (String line : Files.readAllLines(answers, StandardCharsets.UTF_8)) {
        String[] f = line.split("\t", 3);
        if (f.length >= 2 && !line.startsWith("#")) {
          answered.put(f[0], f[1].equals("yes") ? null : f.length == 3 ? f[2] : "no reason given");
        }
      }
    }
    java.util.Map<String, String> unavailable = new java.util.LinkedHashMap<>();
    for (dev.braid.spi.TransportProvider p : providers) {
      if (!answered.containsKey(p.id())) {
        unavailable.put(p.id(), "checking whether it can run here ended its JVM: " + ended + "; see " + log);
      } else if (answered.get(p.id()) != null) {
        unavailable.put(p.id(), answered.get(p.id()));
      }
    }
    return unavailable;
  }

  /** Ends {@code child} and whatever it started, and waits (bounded) until it is gone. */
  static void stop(Process child) {
    child.descendants().forEach(ProcessHandle::destroyForcibly);
    child.destroyForcibly();
    try {
      child.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How a child that has ended ended, for a message: "its JVM ended with exit code 134 (crashed in native code)". */
  static String ended(Process child) {
    int code = child.exitValue();
    return "its JVM ended with exit code " + code + (code == 134 ? " (crashed in native code)"
        : code > 128 ? " (stopped by signal " + (code - 128) + ")" : "");
  }

  /**
   * This JVM's options for a child that must run as this one does (heap and GC settings, {@code -D} properties such as
   * {@code -Dbraid.root}), without those a second JVM cannot share: agents (a debugger's port) and remote JMX.
   */
  static List<String> jvmOptions() {
    return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(o -> !o.startsWith("-agentlib:") && !o.startsWith("-agentpath:") && !o.startsWith("-javaagent:")
            && !o.startsWith("-Xrunjdwp") && !o.equals("-Xdebug") && !o.startsWith("-Dcom.sun.management.jmxremote"))
        .toList();
  }

  /**
   * How a relayed command ended: the exit status it reported, or, when it reported none (its JVM crashed, was
   * stopped, or ran past its limit), null and how its JVM ended; {@code exiting} when this JVM's own exit stopped it.
   */
  record Ended(Integer reported, String how, boolean exiting) {
    /** The command's exit status: as reported, else 1. */
    int status() {
      return reported != null ? reported : 1;
    }
  }

  /** Set by the shutdown hook of {@link #relayed}: this JVM is exiting and has stopped its relayed child. */
  private static volatile boolean exiting;

  /**
   * Runs {@code Main command...} in a child JVM with this JVM's class path and {@link #jvmOptions options}, relaying
   * what its Java code prints ({@link Relay}): its {@code System.out} and {@code System.err} appear on {@code out}
   * and {@code err} as they are printed (polled every 100 ms), its data lines are handed to {@code data}, and its
   * standard output and error, whole (native lines included), go to {@code log}. The child reads this JVM's standard
   * input. It is stopped when {@code limit} (null: none) has passed, or when this JVM exits (a shutdown hook asks it
   * to end, ends it after 5 s, then runs {@code atExit}, if not null); it ends itself if this JVM dies first.
   */
  static Ended relayed(List<String> command, Path channel, Path log, PrintStream out, PrintStream err,
      Duration limit, java.util.function.Consumer<String> data, Runnable atExit) throws IOException {
    Files.deleteIfExists(channel);
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.addAll(jvmOptions());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "--relay",
        channel.toString()));
    cmd.addAll(command);
    Process child = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    Thread hook = new Thread(() -> {
      exiting = true;
      child.destroy(); // asked first, as this JVM was: an echo server closes its connections
      try {
        child.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stop(child);
      if (atExit != null) {
        atExit.run();
      }
    }, "braid-stop-child");
    Runtime.getRuntime().addShutdownHook(hook);
    Relay.Reader reader = new Relay.Reader(channel);
    long deadline = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    String over = null;
    try {
      while (!child.waitFor(100, TimeUnit.MILLISECONDS)) {
        reader.poll(out, err, data);
        if (limit != null && System.nanoTime() - deadline > 0) {
          stop(child);
          over = "it did not finish within " + limit.toMinutes() + " min";
        }
      }
      reader.poll(out, err, data);
    } catch (InterruptedException e) {
      stop(child);
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while " + command.get(0) + " ran in a JVM of its own");
    } catch (IOException e) {
      if (!exiting) {
        stop(child);
        throw e;
      }
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // this JVM is exiting: the hook runs
      }
    }
    if (exiting) {
      return new Ended(null, "stopped: the command line is exiting", true);
    }
    child.descendants().forEach(ProcessHandle::destroyForcibly); // nothing it started outlives it
    return new Ended(reader.status(), over != null ? over : ended(child), false);
  }
}
