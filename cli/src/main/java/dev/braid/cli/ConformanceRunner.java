package dev.braid.cli;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.braid.conformance.Kit;
import dev.braid.conformance.RandomizedRun;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.reporting.legacy.xml.LegacyXmlReportGeneratingListener;

/** Runs the kit against each transport, one after the other, and collects one result per rule and test. */
final class ConformanceRunner {
  private static final Pattern RULE = Pattern.compile("([A-Z][0-9]+)_(\\w+)\\(");

  /**
   * The outcome of one test invocation.
   *
   * @param detail one line: what failed, or why it was skipped; empty for a pass
   * @param message a failure's whole message (what to check first, the operation log of a seeded run), else empty
   * @param seed the seed of a seeded rule's failed or skipped invocation, else empty
   * @param replay the command that replays a seeded failure, as the kit printed it, else empty
   */
  record Outcome(String transport, String rule, String title, String invocation, Status status, String detail,
      Duration time, String kind, String message, String seed, String replay) {
    Outcome(String transport, String rule, String title, String invocation, Status status, String detail,
        Duration time, String kind) {
      this(transport, rule, title, invocation, status, detail, time, kind, "", "", "");
    }
  }

  /** The outcome file's progress lines: {@code #running 12/81 H1 ... [dialer opens]}, one per test started. */
  static final String RUNNING = "#running ";

  /** The longest failure message an outcome keeps (a seeded run's operation log is the bulk of it). */
  static final int MESSAGE_LIMIT = 16_000;
  private static final Pattern SEED_INVOCATION = Pattern.compile("^seed (-?\\d+)$");
  private static final Pattern SEED_IN_MESSAGE = Pattern.compile("\\bwith seed (-?\\d+)");
  private static final Pattern REPLAY_LINE = Pattern.compile("(?m)^replay[^:\\n]*: (.+)$");

  /** JUnit tag of the rules {@code --quick} leaves out (the fault rules, H8, N7 and the race family). */
  static final String SLOW = "slow";

  /** pass, fail or skip. */
  enum Status { PASS, FAIL, SKIP }

  private final PrintStream out;
  private final boolean progress;
  private final Path reportDir;
  private final boolean quick;
  private final java.util.Set<String> rules;

  ConformanceRunner(PrintStream out, boolean progress, Path reportDir, boolean quick) {
    this(out, progress, reportDir, quick, java.util.Set.of());
  }

  /** @param rules the rule ids to run ({@code --rule}); empty for all */
  ConformanceRunner(PrintStream out, boolean progress, Path reportDir, boolean quick, java.util.Set<String> rules) {
    this.out = out;
    this.progress = progress;
    this.reportDir = reportDir;
    this.quick = quick;
    this.rules = java.util.Set.copyOf(rules);
  }

  /**
   * The command line that replays one seeded rule of {@code subject}, as the report shows it: the kit's template
   * ({@link Kit#REPLAY_PROPERTY}) with {@code {rule}} and {@code {seed}} left for the kit to fill in.
   */
  static String replayTemplate(KitSubject subject) {
    return RunInfo.extraClassPath() + "bin/braid conformance " + (subject.isPair()
        ? "--pair " + subject.dialer().id() + "," + subject.listener().id() : "--transport " + subject.id())
        + " --rule {rule} --seed {seed}";
  }

  List<Outcome> run(KitSubject provider, Path outcomesFile) throws IOException {
    java.io.Writer sink = outcomesFile == null ? null : Files.newBufferedWriter(outcomesFile, StandardCharsets.UTF_8);
    try {
      return run(provider, sink);
    } finally {
      if (sink != null) {
        sink.write("#ops " + RandomizedRun.OPERATIONS.get() + "\n");
        sink.write("#done\n");
        sink.close();
      }
    }
  }

  private List<Outcome> run(KitSubject provider, java.io.Writer sink) throws IOException {
    String replayBefore = System.getProperty(Kit.REPLAY_PROPERTY);
    System.setProperty(Kit.REPLAY_PROPERTY, replayTemplate(provider));
    try {
      return runWithReplay(provider, sink);
    } finally {
      if (replayBefore == null) {
        System.clearProperty(Kit.REPLAY_PROPERTY);
      } else {
        System.setProperty(Kit.REPLAY_PROPERTY, replayBefore);
      }
    }
  }

  private List<Outcome> runWithReplay(KitSubject provider, java.io.Writer sink) throws IOException {
    DiscoveredTransportConformance.current = provider;
    DiscoveredTransportFaults.current = provider;
    List<Outcome> outcomes = new ArrayList<>() {
      @Override
      public boolean add(Outcome o) {
        if (sink != null) {
          try {
            sink.write(encode(o));
            sink.flush();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
        return super.add(o);
      }
    };
    Map<String, String> titles = new LinkedHashMap<>();
    LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectClass(DiscoveredTransportConformance.class), selectClass(DiscoveredTransportFaults.class))
        .configurationParameter("junit.jupiter.execution.timeout.default", "900 s");
    if (!rules.isEmpty()) {
      builder.filters(onlyRules(rules));
    }
    Launcher launcher = LauncherFactory.create();
    if (quick) {
      // Left out, never silently: each slow rule gets a row that says so.
      TestPlan whole = launcher.discover(builder.build());
      for (TestIdentifier root : whole.getRoots()) {
        for (TestIdentifier id : whole.getDescendants(root)) {
          Matcher m = RULE.matcher(id.getUniqueId());
          if (isRule(id) && hasTag(id, SLOW) && m.find()) {
            titles.putIfAbsent(m.group(1), id.getDisplayName());
            outcomes.add(new Outcome(provider.id(), m.group(1), id.getDisplayName(), "all", Status.SKIP,
                "left out by --quick (a slow rule); run without --quick for the whole kit", Duration.ZERO, kindOf(id)));
          }
        }
      }
      builder.filters(org.junit.platform.launcher.TagFilter.excludeTags(SLOW));
    }
    LauncherDiscoveryRequest request = builder.build();
    TestPlan plan = launcher.discover(request);
    // Rules are parameterized (both ends, seeds): their invocations are known only as they run, so progress counts
    // rules (test methods and templates), and the invocations run so far.
    long total = plan.countTestIdentifiers(ConformanceRunner::isRule);
    long[] rulesStarted = new long[1];
    Path xmlDir = reportDir.resolve("junit").resolve(provider.fileName());
    Files.createDirectories(xmlDir);
    LegacyXmlReportGeneratingListener xml = new LegacyXmlReportGeneratingListener(xmlDir,
        new java.io.PrintWriter(java.io.Writer.nullWriter()));
    long[] started = new long[1];
    Map<String, Long> startTimes = new LinkedHashMap<>();
    TestExecutionListener collector = new TestExecutionListener() {
      @Override
      public void executionStarted(TestIdentifier id) {
        if (isRule(id)) {
          rulesStarted[0]++;
        }
        if (!id.isTest()) {
          rememberTitle(id, titles);
          return;
        }
        startTimes.put(id.getUniqueId(), System.nanoTime());
        started[0]++;
        String now = String.format("rule %d/%d, test %d: %s", rulesStarted[0], total, started[0], describe(id, plan));
        if (progress) {
          out.printf("\r%-8s %-72.72s", provider.id(), now);
          out.flush();
        }
        if (sink != null) {
          try {
            sink.write(RUNNING + clean(now) + "\n");
            sink.flush();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }

      @Override
      public void executionSkipped(TestIdentifier id, String reason) {
        if (id.isTest()) {
          outcomes.add(outcome(id, plan, Status.SKIP, reason, Duration.ZERO));
        } else {
          // a whole template skipped (capability missing): one row for it
          rememberTitle(id, titles);
          outcomes.add(outcome(id, plan, Status.SKIP, reason, Duration.ZERO));
        }
      }

      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (!id.isTest()) {
          return;
        }
        Duration took = Duration.ofNanos(System.nanoTime() - startTimes.getOrDefault(id.getUniqueId(), System.nanoTime()));
        switch (result.getStatus()) {
          case SUCCESSFUL:
            outcomes.add(outcome(id, plan, Status.PASS, "", took));
            break;
          case ABORTED:
            outcomes.add(outcome(id, plan, Status.SKIP,
                result.getThrowable().map(Throwable::getMessage).map(ConformanceRunner::assumptionReason).orElse("aborted"), took));
            break;
          default:
            outcomes.add(failure(outcome(id, plan, Status.FAIL, "failed", took), result.getThrowable().orElse(null)));
            break;
        }
      }

      @Override
      public void reportingEntryPublished(TestIdentifier id, ReportEntry entry) {}

      private Outcome outcome(TestIdentifier id, TestPlan plan, Status status, String detail, Duration took) {
        String uid = id.getUniqueId();
        Matcher m = RULE.matcher(uid);
        String rule = m.find() ? m.group(1) : id.getDisplayName();
        String title = titles.getOrDefault(rule, id.getDisplayName());
        String invocation = id.isTest() ? id.getDisplayName() : "all";
        return new Outcome(provider.id(), rule, title, invocation, status, detail, took, kindOf(id));
      }
    };
    launcher.execute(plan, collector, xml);
    if (progress) {
      out.print("\r" + " ".repeat(82) + "\r");
      out.flush();
    }
    return outcomes;
  }

  /**
   * A failed outcome completed from what was thrown: the first line as the detail, the whole message (up to
   * {@link #MESSAGE_LIMIT} characters), and for a seeded rule the seed (from the invocation, "seed N", or the message)
   * and the replay command the kit printed.
   */
  static Outcome failure(Outcome o, Throwable thrown) {
    String message = thrown == null ? "failed without an exception"
        : thrown.getMessage() == null || thrown.getMessage().isBlank() ? thrown.toString() : thrown.getMessage();
    if (message.length() > MESSAGE_LIMIT) {
      message = message.substring(0, MESSAGE_LIMIT) + "\n... (" + (message.length() - MESSAGE_LIMIT)
          + " more characters: see the JUnit XML report)";
    }
    Matcher inv = SEED_INVOCATION.matcher(o.invocation());
    Matcher said = SEED_IN_MESSAGE.matcher(message);
    String seed = inv.find() ? inv.group(1) : said.find() ? said.group(1) : "";
    Matcher replay = REPLAY_LINE.matcher(message);
    return new Outcome(o.transport(), o.rule(), o.title(), o.invocation(), o.status(), firstLine(message).strip(),
        o.time(), o.kind(), message.strip(), seed, replay.find() ? replay.group(1).strip() : "");
  }

  /** Keeps the tests of {@code rules} (rule ids, e.g. M1); containers left empty are pruned by the launcher. */
  static org.junit.platform.launcher.PostDiscoveryFilter onlyRules(java.util.Set<String> rules) {
    return descriptor -> {
      Matcher m = RULE.matcher(descriptor.getUniqueId().toString());
      boolean leaf = descriptor.getChildren().isEmpty();
      if (!leaf || !m.find()) {
        return org.junit.platform.engine.FilterResult.included("not a rule");
      }
      return rules.contains(m.group(1)) ? org.junit.platform.engine.FilterResult.included("rule " + m.group(1))
          : org.junit.platform.engine.FilterResult.excluded("rule " + m.group(1) + " not among " + rules);
    };
  }

  /**
   * One outcome as a line of tab-separated fields (tabs and newlines in the one-line fields become spaces; the
   * failure message keeps its lines, escaped).
   */
  static String encode(Outcome o) {
    return String.join("\t", clean(o.transport()), clean(o.rule()), clean(o.title()), clean(o.invocation()),
        o.status().name(), clean(o.detail()), Long.toString(o.time().toMillis()), clean(o.kind()), escape(o.message()),
        clean(o.seed()), clean(o.replay())) + "\n";
  }

  static Outcome decode(String line) {
    String[] f = line.split("\t", -1);
    return new Outcome(f[0], f[1], f[2], f[3], Status.valueOf(f[4]), f[5], Duration.ofMillis(Long.parseLong(f[6])),
        f.length > 7 ? f[7] : "required", f.length > 8 ? unescape(f[8]) : "", f.length > 9 ? f[9] : "",
        f.length > 10 ? f[10] : "");
  }

  private static String escape(String s) {
    return s == null ? "" : s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
  }

  private static String unescape(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        sb.append(n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n);
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** A rule: a test method or a test template (a parameterized rule), not a class or an invocation. */
  static boolean isRule(TestIdentifier id) {
    String uid = id.getUniqueId();
    String last = uid.substring(uid.lastIndexOf("/[") + 1);
    return last.startsWith("[method:") || last.startsWith("[test-template:");
  }

  private static boolean hasTag(TestIdentifier id, String tag) {
    return id.getTags().stream().anyMatch(t -> t.getName().equals(tag));
  }

  /** How a rule is to be read: stochastic (seeded, racing), capability (skipped without it), or required. */
  static String kindOf(TestIdentifier id) {
    return hasTag(id, "stochastic") ? "stochastic" : hasTag(id, "capability") ? "capability" : "required";
  }

  private static String clean(String s) {
    return s == null ? "" : s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
  }

  private static void rememberTitle(TestIdentifier id, Map<String, String> titles) {
    Matcher m = RULE.matcher(id.getUniqueId());
    if (m.find() && !id.isTest()) {
      titles.putIfAbsent(m.group(1), id.getDisplayName());
    }
  }

  private static String describe(TestIdentifier id, TestPlan plan) {
    Optional<TestIdentifier> parent = plan.getParent(id);
    return parent.map(TestIdentifier::getDisplayName).orElse("") + " [" + id.getDisplayName() + "]";
  }

  static String assumptionReason(String message) {
    if (message == null) {
      return "skipped";
    }
    return message.replaceFirst("^Assumption failed: ", "");
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** Randomized operations run by child JVMs, as they reported them. */
  static final java.util.concurrent.atomic.AtomicLong CHILD_OPERATIONS = new java.util.concurrent.atomic.AtomicLong();

  static long randomizedOperations() {
    return RandomizedRun.OPERATIONS.get() + CHILD_OPERATIONS.get();
  }

  static Duration waitLimit() {
    return Kit.waitLimit();
  }
}
