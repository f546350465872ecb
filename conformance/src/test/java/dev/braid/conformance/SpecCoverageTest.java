package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * SPEC.md and the kit stay in step: every rule the spec states has a test in the kit, and every rule the kit
 * runs is stated in the spec. Rules are named by their id ({@code N6}); the kit's tests carry it at the start
 * of their {@link DisplayName}, wherever they are declared: in {@link ConformanceSuite}, {@link FaultSuite} or any
 * rule group they are assembled from. W1 and W2 are checked by {@link KitHarness} around every test, not by a test
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
      for (Method method : ruleMethods(suite)) {
        DisplayName name = method.getAnnotation(DisplayName.class);
        Matcher m = DISPLAY_ID.matcher(name.value());
        assertTrue(m.find(), method.getDeclaringClass().getSimpleName() + "." + method.getName() + " has no rule id: "
            + name.value());
        assertTrue(ids.add(m.group(1)), "rule " + m.group(1) + " has two tests in the kit");
      }
    }
    return ids;
  }

  /**
   * The rule methods a subclass of {@code suite} runs: those with a {@link DisplayName} declared in {@code suite} or
   * in any class or interface it is assembled from (its superclasses and interfaces, walked to the top), each
   * once: a method overridden lower down is one test. Abstract methods are no test and are left out.
   */
  static List<Method> ruleMethods(Class<?> suite) {
    List<Method> rules = new ArrayList<>();
    Set<Class<?>> seen = new HashSet<>();
    Set<String> signatures = new HashSet<>();
    Deque<Class<?>> types = new ArrayDeque<>(List.of(suite));
    while (!types.isEmpty()) {
      Class<?> type = types.removeFirst();
      if (!seen.add(type)) {
        continue;
      }
      for (Method method : type.getDeclaredMethods()) {
        if (method.isSynthetic() || Modifier.isAbstract(method.getModifiers())
            || method.getAnnotation(DisplayName.class) == null) {
          continue;
        }
        if (signatures.add(method.getName() + Arrays.toString(method.getParameterTypes()))) {
          rules.add(method);
        }
      }
      if (type.getSuperclass() != null) {
        types.add(type.getSuperclass());
      }
      types.addAll(List.of(type.getInterfaces()));
    }
    return rules;
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
