package dev.braid.cli;

import dev.braid.Braid;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.TransportOptions;
import dev.braid.TransportRegistry;
import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code braid [command] [options]}: the command line. Commands:
 *
 * <ul>
 *   <li>{@code transports}: every provider found, with availability and the cause when unavailable;
 *   <li>{@code conformance} (default): the kit against every available transport, then the matrix;
 *       {@code --transport ID} (repeatable) picks some, {@code --reports DIR} sets where reports go. Two
 *       transports of one scheme also get a column per direction ({@code dialer→listener}: the cross-implementation
 *       fixture); {@code --pair DIALER,LISTENER} runs just one such column; {@code --rule ID} (repeatable) runs
 *       only those rules, {@code --seed N} gives the seeded rules that seed (the replay command a seeded failure
 *       prints);
 *   <li>{@code bench}: the benchmarks of every available transport beside their baselines, each transport measured
 *       in a JVM of its own ({@code --column ID}, internal, is that JVM's command);
 *   <li>{@code echo-server URI} and {@code echo-client URI [message]}: try Braid by hand (the transport runs in a
 *       child JVM whose Java output is relayed, {@code Relay});
 *   <li>{@code availability --out FILE ID...}: internal, which providers can run here, asked by {@code conformance},
 *       {@code bench} and {@code transports} in a JVM of their own.
 * </ul>
 *
 * <p>The JVM started from the command line loads no transport's native code: what needs it runs in a child JVM
 * (webrtc-java's library prints two lines at the exit of every JVM that loaded it, transport-webrtc/README.md).
 * {@code --in-process} (conformance, bench, echo-server, echo-client) runs it in this JVM instead, as does a class
 * path a child cannot be given (tests that add providers by class loader).
 *
 * <p>A third-party transport is tested by putting its jar on the class path:
 * {@code java -cp braid.jar:their-transport.jar dev.braid.cli.Main conformance}.
 */
public final class Main {
  private Main() {}

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("--relay")) {
      System.exit(relayedChild(Path.of(args[1]), Arrays.copyOfRange(args, 2, args.length)));
    }
    int status = run(args, System.out, System.err, Thread.currentThread().getContextClassLoader());
    System.exit(status);
  }

  /**
   * {@code --relay FILE COMMAND...}: this JVM was started by {@link ChildRun#relayed}. What its Java code prints goes
   * to FILE, for the JVM that started it to print, and still to this JVM's standard output and error (that JVM's log of
   * this one), then the exit status; native code writing to the descriptors reaches the log only.
   */
  private static int relayedChild(Path channel, String[] args) throws IOException {
    Relay.Writer relay = Relay.Writer.open(channel);
    PrintStream out = relay.stream(Relay.OUT, System.out);
    PrintStream err = relay.stream(Relay.ERR, System.err);
    System.setOut(out);
    System.setErr(err);
    // Killed without a chance to stop this JVM, the one that started it no longer reads what it prints: end too.
    ProcessHandle.current().parent().ifPresent(p -> p.onExit().thenRun(() -> System.exit(1)));
    int status;
    try {
      status = run(args, out, err, Thread.currentThread().getContextClassLoader());
    } catch (Throwable t) { // as the JVM would print it, but through the relay
      err.print("Exception in thread \"" + Thread.currentThread().getName() + "\" ");
      t.printStackTrace(err);
      status = 1;
    }
    out.flush();
    err.flush();
    relay.exit(status);
    return status;
  }

  /** Runs one command; returns the exit status (0 success, 1 a failure, 2 a usage error). */
  public static int run(String[] args, PrintStream out, PrintStream err, ClassLoader loader) throws Exception {
    List<String> a = new ArrayList<>(Arrays.asList(args));
    String command = a.isEmpty() || a.get(0).startsWith("--") ? "conformance" : a.remove(0);
    TransportRegistry registry = TransportRegistry.load(loader);
    switch (command) {
      case "transports":
        return transports(registry, out);
      case "conformance":
        String seedBefore = System.getProperty("braid.seed");
        try {
          return conformance(registry, a, List.copyOf(Arrays.asList(args)), out, err);
        } finally { // --seed sets it for this run only (tests run several commands in one JVM)
          if (seedBefore == null) {
            System.clearProperty("braid.seed");
          } else {
            System.setProperty("braid.seed", seedBefore);
          }
        }
      case "bench":
        return Bench.run(registry, a, out, err);
      case "availability":
        return availabilityCommand(registry, a, err);
      case "echo-server":
      case "echo-client":
        return echo(command, registry, a, out, err);
      case "help":
      case "--help":
      case "-h":
        usage(out);
        return 0;
      default:
        err.println("unknown command '" + command + "'");
        usage(err);
        return 2;
    }
  }

  private static void usage(PrintStream out) {
    out.println("usage: braid [transports | conformance [--transport ID]... [--pair DIALER,LISTENER] [--reports DIR]"
        + " [--quick] [--rule ID]... [--seed N] | bench [--transport ID]... [--quick] [--wan] [--reports DIR]"
        + " | echo-server URI | echo-client URI [MESSAGE]]; --in-process (conformance, bench; first for echo-server"
        + " and echo-client) runs the transports in this JVM");
  }

  /**
   * {@code transports}: every provider, whether it can run here and why not, and what each scheme resolves to. Where
   * this JVM can start another, availability is asked there ({@link ChildRun#availability}), as {@code conformance}
   * does, so that this JVM loads no transport's native code and ends without the noise webrtc-java's native
   * library prints at exit; that JVM's output goes to a temporary log, kept (and named) only if it failed.
   */
  private static int transports(TransportRegistry registry, PrintStream out) throws IOException {
    List<TransportProvider> all = registry.all();
    Map<String, String> unavailable;
    if (ChildRun.canFork(all)) {
      Path dir = Files.createTempDirectory("braid-transports");
      unavailable = ChildRun.availability(all, dir);
      if (unavailable.values().stream().noneMatch(why -> why.contains(dir.toString()))) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
          for (Path f : files.toList()) {
            Files.delete(f);
          }
        }
        Files.delete(dir);
      }
    } else {
      unavailable = availability(all);
    }
    out.printf("%-12s %-10s %-9s %-24s %s%n", "id", "available", "priority", "schemes", "capabilities / why not");
    java.util.TreeSet<String> schemes = new java.util.TreeSet<>();
    for (TransportProvider p : all) {
      String why = unavailable.get(p.id());
      out.printf("%-12s %-10s %-9d %-24s %s%n", p.id(), why == null ? "yes" : "NO", p.priority(),
          new java.util.TreeSet<>(p.schemes()), why == null ? p.capabilities().toString() : why);
      p.schemes().forEach(sc -> schemes.add(sc.toLowerCase(java.util.Locale.ROOT)));
    }
    // Which provider each scheme resolves to: the first available claimant by priority (TransportRegistry.forScheme).
    out.println();
    out.printf("%-12s %-14s %s%n", "scheme", "resolves to", "claimed by (in order)");
    for (String scheme : schemes) {
      List<TransportProvider> claimants = registry.claimants(scheme);
      String resolved = claimants.stream().filter(p -> !unavailable.containsKey(p.id())).map(TransportProvider::id)
          .findFirst().orElse("(none can run)");
      out.printf("%-12s %-14s %s%n", scheme + "://", resolved,
          claimants.stream().map(TransportProvider::id).collect(java.util.stream.Collectors.joining(", ")));
    }
    return 0;
  }

  private static int conformance(TransportRegistry registry, List<String> a, List<String> args, PrintStream out,
      PrintStream err) throws IOException {
    Set<String> only = new LinkedHashSet<>();
    Set<String> rules = new LinkedHashSet<>();
    Path reports = Path.of("reports");
    Path outcomesFile = null;
    boolean inProcess = false;
    boolean quick = false;
    String pair = null;
    for (int i = 0; i < a.size(); i++) {
      if (i + 1 >= a.size() && List.of("--transport", "--rule", "--seed", "--pair", "--reports", "--outcomes")
          .contains(a.get(i))) {
        err.println(a.get(i) + " needs a value");
        return 2;
      }
      switch (a.get(i)) {
        case "--transport":
          only.add(a.get(++i));
          break;
        case "--rule":
          for (String r : a.get(++i).split(",")) {
            if (!r.strip().matches("[A-Z][0-9]+")) {
              err.println("--rule takes rule ids such as M1 or H8 (SPEC.md), comma-separated or repeated; was '" + r
                  + "'");
              return 2;
            }
            rules.add(r.strip());
          }
          break;
        case "--seed":
          String seed = a.get(++i);
          try {
            Long.parseLong(seed);
          } catch (NumberFormatException e) {
            err.println("--seed takes the number a seeded rule printed (its replay command); was '" + seed + "'");
            return 2;
          }
          // Read by the kit's seeded rules (and handed on to each transport's JVM), as -Dbraid.seed=N would be.
          System.setProperty("braid.seed", seed);
          break;
        case "--pair":
          pair = a.get(++i);
          break;
        case "--reports":
          reports = Path.of(a.get(++i));
          break;
        case "--outcomes":
          outcomesFile = Path.of(a.get(++i));
          break;
        case "--in-process":
          inProcess = true;
          break;
        case "--quick":
          quick = true;
          break;
        default:
          err.println("unknown option " + a.get(i));
          return 2;
      }
    }
    for (String id : only) {
      if (registry.all().stream().noneMatch(p -> p.id().equals(id))) {
        err.println("no transport with id '" + id + "'; found: "
            + registry.all().stream().map(TransportProvider::id).collect(java.util.stream.Collectors.toList()));
        return 2;
      }
    }
    Files.createDirectories(reports);
    logTo(reports.resolve("braid.log"));
    if (pair != null) {
      return conformancePair(registry, pair, reports, outcomesFile, quick, rules, out, err);
    }
    long t0 = System.nanoTime();
    java.time.ZonedDateTime started = java.time.ZonedDateTime.now();
    List<TransportProvider> candidates = new ArrayList<>();
    for (TransportProvider p : registry.all()) {
      if (only.isEmpty() || only.contains(p.id())) {
        candidates.add(p);
      }
    }
    // Each transport runs in a JVM of its own (native code can crash a JVM, and webrtc-java's prints at every exit of
    // a JVM that loaded it), unless asked otherwise or unless the class path cannot be handed on (a class loader made
    // in-process, as in tests). Then this JVM loads no transport's native code: even whether a transport can run here
    // is asked in a child JVM.
    boolean fork = !inProcess && ChildRun.canFork(candidates);
    Map<String, String> unavailable = fork ? ChildRun.availability(candidates, reports) : availability(candidates);
    List<TransportProvider> selected = new ArrayList<>();
    for (TransportProvider p : candidates) {
      if (!unavailable.containsKey(p.id())) {
        selected.add(p);
      }
    }
    out.println("Braid conformance kit: " + selected.size() + " transport(s) "
        + selected.stream().map(TransportProvider::id).collect(java.util.stream.Collectors.toList())
        + (unavailable.isEmpty() ? "" : ", unavailable: " + unavailable.keySet()));
    boolean tty = System.console() != null;
    ConformanceRunner runner = new ConformanceRunner(out, tty, reports, quick, rules);
    List<ConformanceRunner.Outcome> all = new ArrayList<>();
    List<KitSubject> columns = KitSubject.columns(selected);
    RunInfo info = RunInfo.of(started, args, columns);
    if (columns.size() > selected.size()) {
      out.println("cross-implementation pairs (dialer→listener): " + columns.subList(selected.size(), columns.size())
          .stream().map(KitSubject::id).collect(java.util.stream.Collectors.toList()));
    }
    for (KitSubject p : columns) {
      long t = System.nanoTime();
      List<ConformanceRunner.Outcome> os = fork ? ChildRun.run(p, reports, out, tty, quick, rules)
          : runner.run(p, outcomesFile);
      all.addAll(os);
      long fails = os.stream().filter(o -> o.status() == ConformanceRunner.Status.FAIL).count();
      out.printf("%-8s done in %d s: %d tests, %d failed%n", p.id(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t),
          os.size(), fails);
    }
    out.println();
    Report report = new Report(all, columns.stream().map(KitSubject::id).collect(java.util.stream.Collectors.toList()),
        unavailable, info);
    report.print(out);
    if (outcomesFile == null) { // a child run (--outcomes) leaves the reports to the run that started it
      report.writeMarkdown(reports.resolve("conformance.md"));
      report.writeHtml(reports.resolve("conformance.html"), Duration.ofNanos(System.nanoTime() - t0));
    }
    out.printf("%nrandomized operations checked against the model: %d; total time %d s%n",
        ConformanceRunner.randomizedOperations(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
    if (outcomesFile == null) {
      out.println("reports: " + reports.resolve("conformance.html") + " (open it in a browser), "
          + reports.resolve("conformance.md") + ", " + reports.resolve("junit") + "/");
    }
    return report.anyFailure() || selected.isEmpty() ? 1 : 0;
  }

  /**
   * Which of {@code providers} cannot run here, by id, with the reason, checked in this JVM (a check may load the
   * transport's native library).
   */
  static Map<String, String> availability(List<TransportProvider> providers) {
    Map<String, String> unavailable = new java.util.LinkedHashMap<>();
    for (TransportProvider p : providers) {
      if (!p.isAvailable()) {
        Throwable c = p.unavailabilityCause();
        unavailable.put(p.id(), c == null ? "no reason given" : String.valueOf(c.getMessage()));
      }
    }
    return unavailable;
  }

  /**
   * {@code availability --out FILE ID...}, run by {@link ChildRun#availability} in a JVM of its own: one line per
   * provider, written as soon as it is known, {@code ID<TAB>yes} or {@code ID<TAB>no<TAB>reason}; then {@code #done}.
   */
  private static int availabilityCommand(TransportRegistry registry, List<String> a, PrintStream err)
      throws IOException {
    if (a.size() < 2 || !a.get(0).equals("--out")) {
      err.println("usage: braid availability --out FILE [ID]...");
      return 2;
    }
    try (java.io.Writer w = Files.newBufferedWriter(Path.of(a.get(1)), StandardCharsets.UTF_8)) {
      for (String id : a.subList(2, a.size())) {
        TransportProvider p = registry.all().stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
        if (p == null) {
          w.write(id + "\tno\tno provider with this id in the child JVM\n");
        } else if (p.isAvailable()) {
          w.write(id + "\tyes\n");
        } else {
          Throwable c = p.unavailabilityCause();
          w.write(id + "\tno\t" + (c == null ? "no reason given" : String.valueOf(c.getMessage()))
              .replace('\t', ' ').replace('\n', ' ').replace('\r', ' ') + "\n");
        }
        w.flush();
      }
      w.write("#done\n");
    }
    return 0;
  }

  /**
   * One cross-implementation column, {@code --pair DIALER,LISTENER} (two provider ids of one scheme), run in this
   * JVM: what a parent run starts in a child JVM for each pair; usable by hand too.
   */
  private static int conformancePair(TransportRegistry registry, String pair, Path reports, Path outcomesFile,
      boolean quick, Set<String> rules, PrintStream out, PrintStream err) throws IOException {
    String[] ids = pair.split(",", -1);
    if (ids.length != 2) {
      err.println("--pair takes two transport ids, dialer and listener: --pair quic,quic-netty; was '" + pair + "'");
      return 2;
    }
    TransportProvider[] ends = new TransportProvider[2];
    for (int k = 0; k < 2; k++) {
      try {
        ends[k] = registry.forId(ids[k]);
      } catch (dev.braid.TransportUnavailableException e) {
        err.println(e.getMessage());
        return 2;
      }
    }
    KitSubject subject = KitSubject.across(ends[0], ends[1]);
    Files.createDirectories(reports);
    logTo(reports.resolve("braid.log"));
    List<ConformanceRunner.Outcome> os = new ConformanceRunner(out, System.console() != null, reports, quick, rules)
        .run(subject, outcomesFile);
    Report report = new Report(os, List.of(subject.id()), Map.of());
    report.print(out);
    return report.anyFailure() ? 1 : 0;
  }

  /**
   * Sends Braid's log (System.Logger, through java.util.logging) to a file: the kit deliberately makes
   * listeners throw, and those warnings belong in the log, not between the lines of the matrix.
   */
  private static void logTo(Path file) throws IOException {
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    for (java.util.logging.Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    java.util.logging.FileHandler fh = new java.util.logging.FileHandler(file.toString(), false);
    fh.setFormatter(new java.util.logging.SimpleFormatter());
    root.addHandler(fh);
  }

  /**
   * {@code echo-server} and {@code echo-client}: the transport runs in a child JVM ({@link ChildRun#relayed}), as every
   * command of this JVM does, so that this JVM loads no transport's native code and ends as quietly as it ran: the
   * child's {@code System.out} and {@code System.err} (the echo itself, the server's lines, any error) appear here as
   * they are printed; its standard output and error, whole, go to a log kept (and named) only if its JVM ended without
   * reporting a status (a crash). The child reads this JVM's standard input. {@code --in-process} (first) runs the
   * transport in this JVM, as does a class path a child cannot be given (providers added by a class loader).
   */
  private static int echo(String command, TransportRegistry registry, List<String> a, PrintStream out,
      PrintStream err) throws Exception {
    boolean inProcess = !a.isEmpty() && a.get(0).equals("--in-process");
    if (inProcess) {
      a.remove(0);
    }
    List<TransportProvider> claimants = a.isEmpty() ? List.of() : registry.claimants(scheme(a.get(0)));
    if (inProcess || claimants.isEmpty() || !ChildRun.canFork(claimants)) {
      return command.equals("echo-server") ? echoServer(registry, a, out, err) : echoClient(registry, a, out, err);
    }
    Path dir = Files.createTempDirectory("braid-" + command);
    Path log = dir.resolve(command + ".log");
    Runnable remove = () -> {
      try (java.util.stream.Stream<Path> files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
      } catch (IOException e) {
        // a temporary directory: the system's cleaning takes it
      }
    };
    List<String> cmd = new ArrayList<>(List.of(command, "--in-process"));
    cmd.addAll(a);
    ChildRun.Ended ended = ChildRun.relayed(cmd, dir.resolve(command + ".relay"), log, out, err, null, line -> { },
        remove);
    if (ended.reported() == null && !ended.exiting()) {
      err.println(command + ": " + ended.how() + "; its output: " + log);
      return 1;
    }
    remove.run();
    return ended.status();
  }

  /** The scheme of {@code uri}, or "" if it has none (the command says what is wrong with it). */
  private static String scheme(String uri) {
    int colon = uri.indexOf("://");
    return colon > 0 ? uri.substring(0, colon) : "";
  }

  private static int echoServer(TransportRegistry registry, List<String> a, PrintStream out, PrintStream err)
      throws Exception {
    if (a.size() != 1) {
      err.println("usage: braid echo-server URI   (e.g. tcp://127.0.0.1:4001)");
      return 2;
    }
    try (Braid braid = Braid.create(registry, TransportOptions.DEFAULTS);
        Listener listener = braid.listen(URI.create(a.get(0)))) {
      out.println("echo-server listening on " + listener.address());
      out.flush();
      while (true) {
        Connection c = listener.accept().get();
        out.println("connection from " + c.remoteAddress());
        out.flush();
        c.setStreamHandler(Main::echo);
      }
    }
  }

  private static void echo(MuxedStream s) {
    Thread t = new Thread(() -> {
      try (InputStream in = s.inputStream(); OutputStream o = s.outputStream()) {
        in.transferTo(o);
      } catch (IOException e) {
        System.getLogger(Main.class.getName()).log(System.Logger.Level.INFO, "echo stream " + s + " ended: " + e);
      }
    }, "braid-echo-" + s.id());
    t.setDaemon(true);
    t.start();
  }

  private static int echoClient(TransportRegistry registry, List<String> a, PrintStream out, PrintStream err)
      throws Exception {
    if (a.isEmpty() || a.size() > 2) {
      err.println("usage: braid echo-client URI [MESSAGE]   (without MESSAGE, standard input is sent)");
      return 2;
    }
    try (Braid braid = Braid.create(registry, TransportOptions.DEFAULTS)) {
      Connection c = braid.dial(URI.create(a.get(0))).get(30, TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(30, TimeUnit.SECONDS);
      byte[] message = a.size() == 2 ? (a.get(1) + "\n").getBytes(StandardCharsets.UTF_8) : System.in.readAllBytes();
      Thread writer = new Thread(() -> {
        try (OutputStream o = s.outputStream()) {
          o.write(message);
        } catch (IOException e) {
          err.println("write failed: " + e);
        }
      }, "braid-echo-client-writer");
      writer.start();
      byte[] echoed = s.inputStream().readAllBytes();
      writer.join();
      out.write(echoed);
      out.flush();
      c.close();
      return Arrays.equals(message, echoed) ? 0 : 1;
    }
  }
}
