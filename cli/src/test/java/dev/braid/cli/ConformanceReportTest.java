package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.cli.thirdparty.BrokenMemProvider;
import dev.braid.conformance.Kit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTML conformance report as a reader gets it, from a real run of the kit against a transport that is broken on
 * purpose ({@link BrokenMemProvider}: a reset arrives as a FIN, no STOP_SENDING declared), limited to three rules: D1
 * passes, H6 is skipped for the missing capability, M1 (seeded) fails. The report must say what was tested, how long
 * each rule took, and beside each rule why it failed (message, seed, replay command) or was skipped.
 *
 * <p>The report and its screenshot stay in {@code target/report-test/} for a person to look at.
 */
class ConformanceReportTest {
  private static final Path OUT = Path.of("target", "report-test");
  private static final String SEED = "7";
  private static String html;
  private static String console;
  private static int status;

  @BeforeAll
  static void runTheKitAgainstABrokenTransport() throws Exception {
    // The broken transport leaves M1 waiting for a state that never comes: a short wait keeps the test short.
    Duration waitBefore = Kit.waitLimit();
    Kit.setWaitLimit(Duration.ofSeconds(5));
    try {
      run();
    } finally {
      Kit.setWaitLimit(waitBefore);
    }
  }

  private static void run() throws Exception {
    Files.createDirectories(OUT);
    ClassLoader loader = ProviderJars.loaderWith(Files.createTempDirectory(OUT, "jar-"), BrokenMemProvider.class);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path reports = OUT.resolve("reports");
    status = Main.run(new String[] {"conformance", "--transport", "broken-mem", "--rule", "D1", "--rule", "H6",
        "--rule", "M1", "--seed", SEED, "--reports", reports.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), loader);
    console = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    html = Files.readString(reports.resolve("conformance.html"), StandardCharsets.UTF_8);
  }

  @Test
  void theRunFailsAndTheConsoleNamesTheSeedAndTheReplayCommand() {
    assertEquals(1, status, console);
    assertTrue(console.contains("replay: bin/braid conformance --transport broken-mem --rule M1 --seed " + SEED),
        console);
  }

  @Test
  void theReportOpensWithWhatWasTested() {
    String head = html.substring(0, html.indexOf("id=\"rules\""));
    assertAll(
        () -> assertTrue(head.contains("What was tested"), head),
        () -> assertTrue(Pattern.compile("<th>Run</th><td>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d").matcher(head).find(),
            "date and time: " + head),
        () -> assertTrue(head.contains("<th>Braid</th><td>" + System.getProperty("braid.version", "0.1.0-SNAPSHOT")),
            "Braid's version: " + head),
        () -> assertTrue(head.contains(Report.esc(System.getProperty("java.vendor")))
            && head.contains(Report.esc(System.getProperty("java.runtime.version"))), "JVM vendor and version: " + head),
        () -> assertTrue(head.contains(System.getProperty("os.name")) && head.contains(System.getProperty("os.arch")),
            "OS and architecture: " + head),
        () -> assertTrue(head.contains("--rule M1 --seed " + SEED), "the command: " + head),
        () -> assertTrue(head.contains(BrokenMemProvider.class.getName()), "the provider: " + head),
        () -> assertTrue(Pattern.compile("junit-jupiter-api <code>5\\.\\d+\\.\\d+").matcher(head).find(),
            "the provider's library with the version read from its jar: " + head),
        () -> assertTrue(head.contains("RESET_CODES, OPENING_STATE; lacks STOP_SENDING"), "capabilities: " + head),
        () -> assertTrue(head.contains("class=\"fail\">2 passed, 1 failed, 2 skipped</td>"),
            "the column's result (D1 from both ends, M1 with one seed, H6 from both ends): " + head));
  }

  @Test
  void everyRuleRowShowsItsTime() {
    for (String rule : List.of("D1", "M1")) {
      String row = row(rule);
      assertTrue(Pattern.compile("<span class=\"t\">\\d+(\\.\\d)? (ms|s)</span>").matcher(row).find(),
          rule + " shows its time: " + row);
    }
    assertTrue(row("D1").contains("class=\"cell pass\">pass 2/2"), row("D1"));
  }

  @Test
  void aFailedRuleShowsItsMessageSeedAndReplayCommandBesideIt() {
    assertTrue(row("M1").contains("class=\"cell fail\">FAIL"), row("M1"));
    String why = why("M1");
    assertAll(
        () -> assertTrue(why.contains("class=\"note fail\""), why),
        () -> assertTrue(why.contains("randomized run failed with seed " + SEED), "the message: " + why),
        () -> assertTrue(why.contains("<dt>seed</dt><dd><code>" + SEED + "</code></dd>"), "the seed: " + why),
        () -> assertTrue(why.contains("<dt>replay</dt><dd><code>bin/braid conformance --transport broken-mem --rule M1"
            + " --seed " + SEED + "</code></dd>"), "the replay command: " + why),
        () -> assertTrue(why.contains("<details><summary>whole message</summary><pre>"), "the whole message: " + why),
        () -> assertTrue(why.contains("If this rule fails, check first"), "what to check first: " + why));
  }

  @Test
  void theFailedRulesAreListedAtTheTopWithLinksToThem() {
    String top = html.substring(0, html.indexOf("What was tested"));
    assertTrue(top.contains("Failed: <a href=\"#rule-M1\">M1</a>") && !top.contains("#rule-D1")
        && !top.contains("#rule-H6"), top);
  }

  @Test
  void aSkippedRuleShowsItsReasonBesideIt() {
    assertTrue(row("H6").contains("class=\"cell skip\">skip"), row("H6"));
    String why = why("H6");
    assertTrue(why.contains("class=\"note skip\"") && why.contains("does not declare capability STOP_SENDING")
        && why.contains("the protocol cannot tell the peer that we stopped reading"), why);
  }

  @Test
  void theReportIsOneSelfContainedFileWithItsTextEscaped() {
    assertAll(
        () -> assertTrue(html.startsWith("<!doctype html>") && html.contains("<meta charset=\"utf-8\">"), "a document"),
        () -> assertTrue(html.contains("<style>"), "inline CSS"),
        () -> assertFalse(Pattern.compile("(?i)<(script|link|img|iframe|object)\\b|\\bsrc=|url\\(|@import")
            .matcher(html).find(), "no script and nothing fetched"),
        () -> assertFalse(html.contains("http://") || html.contains("https://"), "no external address"),
        // The message quotes code and states such as <init> or a->b; none may leak as markup.
        () -> assertEquals("&lt;a href=&quot;x&quot;&gt;&amp;&#39;", Report.esc("<a href=\"x\">&'")),
        () -> assertFalse(textOf(html).contains("<") || textOf(html).contains(">"),
            "every < and > outside tags is escaped"));
  }

  /**
   * The report in a real browser: headless Chromium renders it to a PNG, which must be a picture of some size (a page
   * that failed to render is a few kilobytes of white). Without Chromium this is skipped, saying so.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void theReportRendersInHeadlessChromium() throws Exception {
    Path browser = Chromium.find();
    Assumptions.assumeTrue(browser != null, "Chromium is not installed (apt-get install -y chromium, as bin/setup "
        + "does): the report was checked as text only, not rendered");
    Path png = OUT.resolve("conformance-report.png").toAbsolutePath();
    Files.deleteIfExists(png);
    Chromium.screenshot(browser, OUT.resolve("reports/conformance.html").toAbsolutePath(), png, 1400, 2000);
    byte[] bytes = Files.readAllBytes(png);
    assertTrue(bytes.length > 8 && (bytes[1] & 0xff) == 'P' && bytes[2] == 'N' && bytes[3] == 'G', "a PNG");
    assertTrue(bytes.length > 40_000, "a rendered page, not a blank one: " + bytes.length + " bytes");
  }

  /** The row of one rule in the matrix. */
  private static String row(String rule) {
    Matcher m = Pattern.compile("<tr id=\"rule-" + rule + "\">.*?</tr>").matcher(html);
    assertTrue(m.find(), "no row for " + rule);
    return m.group();
  }

  /** The row under one rule that says why it did not pass. */
  private static String why(String rule) {
    Matcher m = Pattern.compile("<tr id=\"rule-" + rule + "\">.*?</tr>\\n<tr class=\"why\">(.*?)</tr>\\n",
        Pattern.DOTALL).matcher(html);
    assertTrue(m.find(), "no explanation under " + rule);
    return m.group(1);
  }

  /** The text between tags (a tag is "<" a letter, "/" or "!" up to ">"). */
  private static String textOf(String doc) {
    return doc.replaceAll("(?s)<style>.*?</style>", "").replaceAll("<[a-zA-Z/!][^<>]*>", "");
  }

  /** Headless Chromium, as bin/setup installs it (Debian package chromium). */
  static final class Chromium {
    private Chromium() {}

    static Path find() {
      for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")) {
        if (Files.isExecutable(Path.of(c))) {
          return Path.of(c);
        }
      }
      return null;
    }

    /**
     * Renders {@code page} to {@code png} at the given window size and waits for it (bounded). As root it runs in an
     * empty network namespace ({@code unshare -n}): the page needs no network, and nothing may leave the machine.
     */
    static void screenshot(Path browser, Path page, Path png, int width, int height)
        throws IOException, InterruptedException {
      Path profile = Files.createTempDirectory("braid-report-chromium-");
      List<String> cmd = new ArrayList<>();
      boolean root = "root".equals(System.getProperty("user.name"));
      if (root && Files.isExecutable(Path.of("/usr/bin/unshare"))) {
        cmd.addAll(List.of("/usr/bin/unshare", "-n"));
      }
      cmd.addAll(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
          "--hide-scrollbars", "--user-data-dir=" + profile, "--screenshot=" + png,
          "--window-size=" + width + "," + height, page.toUri().toString()));
      Path log = profile.resolve("chromium.log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
          throw new AssertionError("Chromium did not finish the screenshot within 120 s; its log:\n"
              + Files.readString(log));
        }
        if (!Files.exists(png)) {
          throw new AssertionError("Chromium exited " + p.exitValue() + " without writing " + png + "; its log:\n"
              + Files.readString(log));
        }
      } finally {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
