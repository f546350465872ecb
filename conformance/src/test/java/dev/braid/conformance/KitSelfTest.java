package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.braid.conformance.reference.Breakage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import java.util.List;
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
 * The kit tests itself: run against each deliberately broken reference transport, at least one rule must
 * fail. A kit that passes a broken transport proves nothing.
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
    try {
      List<String> failed = run();
      System.out.println("kit self-test: " + breakage + " caught by " + failed.size() + " test(s): " + new TreeSet<>(failed));
      assertTrue(!failed.isEmpty(), "no rule of the kit caught the broken transport " + breakage);
    } finally {
      BrokenTransportTarget.breakage = Breakage.NONE;
      Kit.setWaitLimit(normal);
    }
  }

  private static List<String> run() {
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectClass(BrokenTransportTarget.class))
        .build();
    List<String> failed = new ArrayList<>();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(request, new TestExecutionListener() {
      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest() && result.getStatus() == TestExecutionResult.Status.FAILED) {
          failed.add(id.getUniqueId().replaceAll(".*test-template:([A-Z][0-9])_.*", "$1"));
        }
      }
    });
    return failed;
  }
}
