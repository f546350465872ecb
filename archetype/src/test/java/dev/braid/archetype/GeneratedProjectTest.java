package dev.braid.archetype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The archetype's integration test. {@code archetype:integration-test} has generated
 * {@code src/test/resources/projects/sock/archetype.properties} (scheme {@code sock}, package {@code com.example.sock})
 * into {@code target/test-classes/projects/sock/project/sock-transport} just before this runs (same phase); this test
 * builds that project with the Maven running this build, as a subprocess, and reads its Surefire reports:
 * <ul>
 *   <li>the project compiles (its module-info included) and the kit runs, on the class path as generated, and with
 *       {@code -Pmodule-path}: the two Surefire configurations the generated POM explains both get the kit past
 *       "module com.example.sock does not read module dev.braid.conformance";</li>
 *   <li>the provider is registered both ways, and on the module path {@code provides} is what finds it;</li>
 *   <li>the kit runs every rule of SPEC.md and fails each one (the hooks are stubs), naming the rule and the hook to
 *       implement; the rules whose capability the stub does not declare are skipped with the reason; nothing passes.</li>
 * </ul>
 * The generated build uses this build's local repository and offline setting (system properties set by
 * {@code archetype/pom.xml}), so it runs against the Braid artifacts this build installed before. Each build is
 * bounded: on timeout the whole process tree is killed and the test fails with the end of the build's log.
 */
class GeneratedProjectTest {
  /** As in src/test/resources/projects/sock/archetype.properties; the class prefix is the scheme's default. */
  private static final String PACKAGE = "com.example.sock";
  private static final String PREFIX = "Sock";
  private static final Path PROJECTS = Path.of(required("braid.archetype.projects"));
  private static final Path GENERATED = PROJECTS.resolve("sock/project/sock-transport");
  /** What every failure of the stubbed transport says: the hook that is not implemented yet, and its rules. */
  private static final Pattern NOT_IMPLEMENTED = Pattern.compile(" failed: [^\\n]*\\b" + PREFIX
      + "\\w+\\.\\w+(\\(\\w*\\))? is not implemented: [^\\n]*SPEC\\.md");
  private static final Pattern RULE_OF_METHOD = Pattern.compile("^([A-Z][0-9]+)_");

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theKitFailsEveryRuleOfTheStubsNamingTheRuleAndTheHookToImplement() throws Exception {
    assertTrue(Files.isRegularFile(GENERATED.resolve("src/main/java/module-info.java")),
        "archetype:integration-test did not generate the project with its module-info at " + GENERATED);
    String log = build(GENERATED, 8, "test");

    Path reports = GENERATED.resolve("target/surefire-reports");
    List<Case> kit = new ArrayList<>(cases(reports, PREFIX + "ConformanceTest", log));
    kit.addAll(cases(reports, PREFIX + "FaultTest", log));
    Set<String> ruleIds = new TreeSet<>();
    int failed = 0;
    int skipped = 0;
    for (Case c : kit) {
      Matcher m = RULE_OF_METHOD.matcher(c.name);
      assertTrue(m.find(), "a kit test whose name does not start with its rule id: " + c);
      String rule = m.group(1);
      ruleIds.add(rule);
      switch (c.outcome) {
        case "failure" -> {
          failed++;
          assertTrue(c.message.startsWith(rule + " "), "the failure names its rule " + rule + ": " + c);
          assertTrue(NOT_IMPLEMENTED.matcher(c.message).find(), "the failure names the hook to implement and its "
              + "SPEC.md rules: " + c);
        }
        case "skipped" -> {
          skipped++;
          assertTrue(c.message.contains("does not declare capability"), "only rules needing a capability the stub "
              + "does not declare may be skipped, with the reason: " + c);
        }
        default -> fail("a stubbed transport can pass no rule, and every failure must go through the kit's "
            + "reporting (an assertion naming the rule, not a raw error): " + c);
      }
    }
    Set<String> missing = new TreeSet<>(specRules());
    missing.removeAll(ruleIds);
    assertTrue(missing.isEmpty(), "rules of SPEC.md the generated project's kit did not run: " + missing);

    List<Case> registration = cases(reports, PREFIX + "RegistrationTest", log);
    assertFalse(registration.isEmpty(), "no registration tests ran");
    for (Case c : registration) {
      assertEquals("pass", c.outcome, "the provider's registration: " + c);
    }
    Case sample = kit.stream().filter(c -> c.outcome.equals("failure")).findFirst().orElseThrow();
    System.out.println("generated project, class path: " + kit.size() + " kit tests over " + ruleIds.size()
        + " rules, " + failed + " failed, " + skipped + " skipped; registration " + registration.size()
        + " passed. A failure reads:\n  " + sample.message.replace("\n", "\n  "));
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void withTheModulePathProfileTheKitRunsInsideTheModuleAndProvidesFindsTheProvider() throws Exception {
    Path copy = PROJECTS.resolve("sock/module-path/sock-transport");
    copyTree(GENERATED, copy);
    String log = build(copy, 8, "test", "-Pmodule-path",
        "-Dtest=" + PREFIX + "RegistrationTest," + PREFIX + "ConformanceTest#D1*");
    Path reports = copy.resolve("target/surefire-reports");
    for (Case c : cases(reports, PREFIX + "RegistrationTest", log)) {
      assertEquals("pass", c.outcome, "on the module path, with the provider found through module-info's provides: "
          + c);
    }
    List<Case> d1 = cases(reports, PREFIX + "ConformanceTest", log);
    assertEquals(2, d1.size(), "D1 from both ends: " + d1);
    for (Case c : d1) {
      assertEquals("failure", c.outcome, c.toString());
      assertTrue(c.message.startsWith("D1 ") && NOT_IMPLEMENTED.matcher(c.message).find(), c.toString());
    }
  }

  // ------------------------------------------------------------------ the generated build

  /**
   * Runs {@code mvn -B [-o] -Dmaven.repo.local=... -Dmaven.test.failure.ignore=true args...} in {@code project} and
   * returns its log; fails when it does not end within {@code minutes} (after killing every process it started) or
   * ends with an error: with test failures ignored, a non-zero exit means the project did not compile or the kit
   * could not start (Surefire's fork failing with "does not read module", say).
   */
  private static String build(Path project, int minutes, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(mvn(), "-B"));
    if (Boolean.getBoolean("braid.archetype.offline")) {
      command.add("-o");
    }
    command.add("-Dmaven.repo.local=" + required("braid.archetype.localRepository"));
    command.add("-Dmaven.test.failure.ignore=true");
    command.addAll(List.of(args));
    Path log = project.resolve("build.log");
    ProcessBuilder pb = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("MAVEN_BASEDIR", project.toString()); // no .mvn/ of an enclosing directory applies
    long t0 = System.nanoTime();
    Process build = pb.start();
    boolean ended = false;
    try {
      ended = build.waitFor(minutes, TimeUnit.MINUTES);
    } finally {
      if (!ended) { // timed out, or this test was interrupted (its JUnit timeout): leave no process behind
        build.descendants().forEach(ProcessHandle::destroyForcibly);
        build.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertTrue(ended, "the generated project's build did not end within " + minutes + " min (killed): " + command
        + "\n" + tail(output));
    assertEquals(0, build.exitValue(), "the generated project's build failed (with test failures ignored): "
        + command + "\n" + tail(output));
    System.out.println("generated project built in " + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)
        + " s: " + String.join(" ", command) + " (in " + project + ")");
    return output;
  }

  /** The Maven that runs this build (so the generated build uses the same), else {@code mvn} on the PATH. */
  private static String mvn() {
    String home = System.getProperty("braid.archetype.mavenHome", "");
    Path script = Path.of(home, "bin", "mvn");
    return !home.isEmpty() && Files.isExecutable(script) ? script.toString() : "mvn";
  }

  // ------------------------------------------------------------------ reports

  /** One test of a Surefire report: its outcome (pass, failure, error, skipped) and message. */
  private record Case(String name, String outcome, String message) {
    @Override
    public String toString() {
      return name + ": " + outcome + (message.isEmpty() ? "" : " (" + message + ")");
    }
  }

  private static List<Case> cases(Path reports, String simpleName, String log) throws Exception {
    Path xml = reports.resolve("TEST-" + PACKAGE + "." + simpleName + ".xml");
    if (!Files.isRegularFile(xml)) {
      fail("no Surefire report " + xml + ": the tests did not run\n" + tail(log));
    }
    Element suite = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile()).getDocumentElement();
    NodeList testcases = suite.getElementsByTagName("testcase");
    List<Case> out = new ArrayList<>();
    for (int i = 0; i < testcases.getLength(); i++) {
      Element tc = (Element) testcases.item(i);
      String outcome = "pass";
      String message = "";
      for (String kind : List.of("failure", "error", "skipped")) {
        NodeList found = tc.getElementsByTagName(kind);
        if (found.getLength() > 0) {
          Element e = (Element) found.item(0);
          outcome = kind;
          // A failure's message is an attribute; a skip's reason is the first line of its text (the assumption).
          message = e.hasAttribute("message") ? e.getAttribute("message") : e.getTextContent().strip().split("\n")[0];
          break;
        }
      }
      out.add(new Case(tc.getAttribute("name"), outcome, message));
    }
    return out;
  }

  /** Every rule id of SPEC.md ({@code - **H1** ...}), but W1 and W2, which the kit checks around every rule. */
  private static Set<String> specRules() throws IOException {
    Path spec = Path.of(required("braid.archetype.spec"));
    Set<String> ids = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^- \\*\\*([A-Z][0-9]+)\\*\\*").matcher(Files.readString(spec));
    while (m.find()) {
      if (!m.group(1).startsWith("W")) {
        ids.add(m.group(1));
      }
    }
    assertTrue(ids.size() > 40, "SPEC.md's rules not found in " + spec + ": " + ids);
    return ids;
  }

  // ------------------------------------------------------------------ helpers

  private static void copyTree(Path from, Path to) throws IOException {
    if (Files.exists(to)) {
      try (Stream<Path> old = Files.walk(to)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.filter(p -> !from.relativize(p).startsWith("target")).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else if (!p.getFileName().toString().equals("build.log")) {
          Files.copy(p, target);
        }
      }
    }
  }

  private static String required(String property) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException("system property " + property + " is not set: run this test through "
          + "archetype/pom.xml (mvn verify or install), which sets it");
    }
    return value;
  }

  private static String tail(String s) {
    return s.length() <= 6000 ? s : "...\n" + s.substring(s.length() - 6000);
  }
}
