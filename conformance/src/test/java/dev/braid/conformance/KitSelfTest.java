package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import dev.braid.conformance.reference.Breakage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The kit tests itself: run against each deliberately broken reference transport, every rule the breakage
 * names ({@link Breakage#caughtBy()}) must fail (those rules are the ones run). A kit that passes a broken transport proves nothing, and one
 * that catches it only by accident (a timeout in an unrelated rule) proves little more.
 */
class KitSelfTest {

  static Stream<Breakage> breakages() {
    return Stream.of(Breakage.values()).filter(b -> b != Breakage.NONE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("breakages")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theKitCatchesEveryBreakage(Breakage breakage) {
    BrokenTransportTarget.breakage = breakage;
    Duration normal = Kit.waitLimit();
    Kit.setWaitLimit(Duration.ofSeconds(3)); // a broken transport is expected to time out: do not wait 30 s
    // The run is repeated for every breakage: the slow rules at a smaller scale that still meets each breakage
    // (FIN_OVERTAKES_QUEUED_DATA starts at a connection's 200th stream).
    System.setProperty(CloseWriteAtScale.STREAMS_PROPERTY, "2000");
    System.setProperty(ChurnRun.STREAMS_PROPERTY, "2000");
    System.setProperty(RaceRun.ROUNDS_PROPERTY, "250");
    try {
      List<String> failed = run(breakage.caughtBy());
      TreeSet<String> rules = new TreeSet<>(failed);
      System.out.println("kit self-test: " + breakage + ": its rules " + new TreeSet<>(breakage.caughtBy())
          + " ran against it; " + failed.size() + " test(s) of " + rules + " failed");
      assertTrue(!breakage.caughtBy().isEmpty(), breakage + " names no rule that must catch it");
      TreeSet<String> missed = new TreeSet<>(breakage.caughtBy());
      missed.removeAll(rules);
      assertTrue(missed.isEmpty(), "the rules " + missed + " exist to catch " + breakage + " but passed against it"
          + (rules.isEmpty() ? " (no rule failed at all)" : "; it was caught only by " + rules));
    } finally {
      BrokenTransportTarget.breakage = Breakage.NONE;
      Kit.setWaitLimit(normal);
      System.clearProperty(CloseWriteAtScale.STREAMS_PROPERTY);
      System.clearProperty(ChurnRun.STREAMS_PROPERTY);
      System.clearProperty(RaceRun.ROUNDS_PROPERTY);
    }
  }

  /**
   * A FIN that overtakes queued data now and then (as TCP's did before its fix) is caught by H8, which writes
   * thousands of streams, and not by H1, which writes a few: H8 is the rule that finds this class of defect.
   */
  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aFinOvertakingQueuedDataNowAndThenIsCaughtByH8AndMissedByH1() {
    BrokenTransportTarget.breakage = Breakage.FIN_OVERTAKES_QUEUED_DATA;
    try {
      Map<String, int[]> h1 = runMethod("H1_closeWriteDeliversEveryByteBeforeEof", Side.class.getName());
      Map<String, int[]> h8 = runMethod("H8_closeWriteAtScaleLosesNothing", "long");
      assertTrue(h1.get("passed")[0] == 2 && h1.get("failed")[0] == 0,
          "H1 runs too few streams to meet this defect (the reason H8 exists), yet it passed "
              + h1.get("passed")[0] + " and failed " + h1.get("failed")[0] + " of its tests");
      assertTrue(h8.get("failed")[0] >= 1, "H8 did not catch a FIN that overtakes queued data now and then");
    } finally {
      BrokenTransportTarget.breakage = Breakage.NONE;
    }
  }

  /** A test class that overrides a rule (and so would drop it from the run) fails every test, naming the rule. */
  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void aTestClassCannotOverrideARule() {
    List<String> failures = new ArrayList<>();
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectClass(RuleOverridingTarget.class)).build();
    LauncherFactory.create().execute(request, new TestExecutionListener() {
      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) {
          failures.add(result.getStatus() + " " + id.getLegacyReportingName() + ": "
              + result.getThrowable().map(Throwable::getMessage).orElse(""));
        }
      }
    });
    assertTrue(failures.size() >= 70, "the whole kit ran: " + failures.size() + " tests");
    for (String f : failures) {
      assertTrue(f.startsWith("FAILED ") && f.contains(RuleOverridingTarget.class.getName()
          + " overrides the kit's rule D1_smallMessagesEcho"), f);
    }
    assertTrue(failures.stream().noneMatch(f -> f.startsWith("FAILED D1_")), "the overriding D1 is not run as a test");
  }

  /** Drops D1 by overriding it; not named *Test: it runs only through {@link #aTestClassCannotOverrideARule()}. */
  static class RuleOverridingTarget extends ConformanceSuite {
    @Override
    protected TransportFixture createFixture() {
      return new dev.braid.conformance.reference.MemFixture(new dev.braid.conformance.reference.MemTransportProvider());
    }

    @Override
    public void D1_smallMessagesEcho(Side side) {}
  }

  private static Map<String, int[]> runMethod(String method, String parameterTypes) {
    Map<String, int[]> counts = Map.of("passed", new int[1], "failed", new int[1]);
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectMethod(BrokenTransportTarget.class.getName(), method, parameterTypes))
        .build();
    LauncherFactory.create().execute(request, new TestExecutionListener() {
      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) {
          counts.get(result.getStatus() == TestExecutionResult.Status.SUCCESSFUL ? "passed" : "failed")[0]++;
          result.getThrowable().ifPresent(t -> System.out.println("kit self-test: " + id.getDisplayName() + ": " + t));
        }
      }
    });
    return counts;
  }

  /**
   * Runs the rules {@code ids} (every test of each) against the broken transport and returns the ids of those that
   * failed, once per failed test. Only the named rules run: they are the ones that must catch the breakage, and
   * the whole kit sixteen times over would cost minutes for nothing the named rules do not already prove.
   */
  private static List<String> run(java.util.Set<String> ids) {
    return run(BrokenTransportTarget.class, ids);
  }

  /** {@link #run(java.util.Set)} against any target class of the kit (a {@link ConformanceSuite} subclass). */
  static List<String> run(Class<? extends ConformanceSuite> target, java.util.Set<String> ids) {
    List<org.junit.platform.engine.DiscoverySelector> selectors = new ArrayList<>();
    for (java.lang.reflect.Method m : SpecCoverageTest.ruleMethods(ConformanceSuite.class)) {
      if (ids.stream().anyMatch(id -> m.getName().startsWith(id + "_"))) {
        selectors.add(selectMethod(target, m));
      }
    }
    assertTrue(selectors.size() >= ids.size(), "no test found in the kit for some of the rules " + ids);
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
    List<String> failed = new ArrayList<>();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(request, new TestExecutionListener() {
      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest() && result.getStatus() == TestExecutionResult.Status.FAILED) {
          failed.add(id.getUniqueId().replaceAll(".*(?:test-template|method):([A-Z][0-9]+)_.*", "$1"));
        }
      }
    });
    return failed;
  }
}
