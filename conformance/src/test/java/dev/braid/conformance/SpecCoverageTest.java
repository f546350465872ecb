package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * SPEC.md and the kit stay in step: every rule the spec states has a test in the kit, and every rule the kit
 * runs is stated in the spec. Rules are named by their id ({@code N6}); the kit's tests carry it at the start
 * of their {@link DisplayName}. W1 and W2 are checked by {@link KitHarness} around every test, not by a test
 * of their own.
 */
class SpecCoverageTest {
  private static final Pattern SPEC_RULE = Pattern.compile("(?m)^- \\*\\*([A-Z][0-9]+)\\*\\*");
  private static final Pattern DISPLAY_ID = Pattern.compile("^([A-Z][0-9]+) ");
  private static final Set<String> HARNESS_RULES = Set.of("W1", "W2");

  static Set<String> specRules() throws IOException {
    Path spec = Path.of("..", "SPEC.md"); // Surefire runs in the module's directory
    assertTrue(Files.isRegularFile(spec), "SPEC.md not found at " + spec.toAbsolutePath());
    Set<String> ids = new TreeSet<>();
    Matcher m = SPEC_RULE.matcher(Files.readString(spec));
    while (m.find()) {
      assertTrue(ids.add(m.group(1)), "rule " + m.group(1) + " is stated twice in SPEC.md");
    }
    return ids;
  }

  static Set<String> kitRules() {
    Set<String> ids = new TreeSet<>();
    for (Class<?> suite : new Class<?>[] {ConformanceSuite.class, FaultSuite.class}) {
      for (Method method : suite.getDeclaredMethods()) {
        DisplayName name = method.getAnnotation(DisplayName.class);
        if (name == null) {
          continue;
        }
        Matcher m = DISPLAY_ID.matcher(name.value());
        assertTrue(m.find(), suite.getSimpleName() + "." + method.getName() + " has no rule id: " + name.value());
        assertTrue(ids.add(m.group(1)), "rule " + m.group(1) + " has two tests in the kit");
      }
    }
    return ids;
  }

  @Test
  void everyRuleInTheSpecHasATestAndEveryTestARule() throws IOException {
    Set<String> spec = specRules();
    Set<String> kit = kitRules();
    Set<String> untested = new TreeSet<>(spec);
    untested.removeAll(kit);
    untested.removeAll(HARNESS_RULES);
    Set<String> unstated = new TreeSet<>(kit);
    unstated.removeAll(spec);
    assertEquals(Set.of(), untested, "rules in SPEC.md without a test in the kit");
    assertEquals(Set.of(), unstated, "kit tests whose rule SPEC.md does not state");
    assertTrue(spec.containsAll(HARNESS_RULES), "SPEC.md states the harness rules W1 and W2");
    assertTrue(kit.size() >= 40, "the kit's rules were found: " + kit);
  }
}
