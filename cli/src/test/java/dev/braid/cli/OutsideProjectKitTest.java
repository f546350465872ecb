package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kit never hangs outside this repository: a Maven project that depends only on the published
 * {@code braid-conformance} jar (no Braid parent, so no JUnit timeout inherited, Surefire at its defaults), with a
 * transport that never sends its FIN, gets bounded failures of the rules that read to end-of-stream. Before the
 * kit bounded its own blocking steps, E3 hung such a build for over 12 minutes. The project is generated here
 * and built offline with the Maven that runs this build (the conformance jar is installed by then: the reactor
 * installs each module before the next one's tests run). Plugin versions are pinned to those Braid's own build
 * uses, so that the offline build finds them.
 */
class OutsideProjectKitTest {
  private static final String VERSION = System.getProperty("braid.version", "0.1.0-SNAPSHOT");

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void aTransportThatDropsItsFinFailsTheKitInBoundedTimeNotAHang(@TempDir Path dir) throws Exception {
    Path test = dir.resolve("src/test/java/com/example/sock");
    Files.createDirectories(test);
    Files.writeString(dir.resolve("pom.xml"), """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>com.example</groupId>
          <artifactId>sock-transport</artifactId>
          <version>1.0</version>
          <properties>
            <maven.compiler.release>17</maven.compiler.release>
            <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
          </properties>
          <dependencies>
            <dependency>
              <groupId>dev.braid</groupId>
              <artifactId>braid-conformance</artifactId>
              <version>%s</version>
              <scope>test</scope>
            </dependency>
          </dependencies>
          <build>
            <plugins>
              <plugin>
                <groupId>org.apache.maven.plugins</groupId>
                <artifactId>maven-resources-plugin</artifactId>
                <version>3.3.1</version>
              </plugin>
              <plugin>
                <groupId>org.apache.maven.plugins</groupId>
                <artifactId>maven-compiler-plugin</artifactId>
                <version>3.14.0</version>
              </plugin>
              <plugin>
                <groupId>org.apache.maven.plugins</groupId>
                <artifactId>maven-surefire-plugin</artifactId>
                <version>3.5.2</version>
              </plugin>
            </plugins>
          </build>
        </project>
        """.formatted(VERSION), StandardCharsets.UTF_8);
    Files.writeString(test.resolve("SockConformanceTest.java"), """
        package com.example.sock;

        import dev.braid.conformance.ConformanceSuite;
        import dev.braid.conformance.TransportFixture;
        import dev.braid.conformance.reference.Breakage;
        import dev.braid.conformance.reference.MemTransportProvider;

        /** A transport whose closeWrite never sends the FIN (the reference transport, broken on purpose). */
        class SockConformanceTest extends ConformanceSuite {
          @Override
          protected TransportFixture createFixture() {
            return TransportFixture.of(new MemTransportProvider(Breakage.FIN_DROPPED));
          }
        }
        """, StandardCharsets.UTF_8);
    String mvn = Files.isExecutable(Path.of("/usr/bin/mvn")) ? "/usr/bin/mvn" : "mvn";
    Path log = dir.resolve("build.log");
    // E3 hung before; H1 reads to EOF through the asynchronous core. A 10 s wait limit keeps this test short.
    Process build = new ProcessBuilder(mvn, "-B", "-o", "-q", "test", "-Dtest=SockConformanceTest#E3*+H1*",
        "-Dbraid.kit.waitSeconds=10", "-Dmaven.repo.local=" + System.getProperty("maven.repo.local",
            Path.of(System.getProperty("user.home"), ".m2", "repository").toString()))
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean ended = build.waitFor(6, TimeUnit.MINUTES);
    if (!ended) {
      build.descendants().forEach(ProcessHandle::destroyForcibly);
      build.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertTrue(ended, "the outside project's build hung (killed after 6 min):\n" + tail(output));
    assertNotEquals(0, build.exitValue(), "the build passed a transport that never sends its FIN:\n" + tail(output));
    Path reports = dir.resolve("target/surefire-reports");
    assertTrue(Files.isDirectory(reports), "no Surefire reports: the build failed before the kit ran:\n" + tail(output));
    String xml = Files.readString(reports.resolve("TEST-com.example.sock.SockConformanceTest.xml"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("tests=\"(\\d+)\" errors=\"(\\d+)\" skipped=\"(\\d+)\" failures=\"(\\d+)\"").matcher(xml);
    assertTrue(m.find(), "unexpected report format: " + xml.substring(0, Math.min(500, xml.length())));
    int tests = Integer.parseInt(m.group(1));
    int failedOrErrors = Integer.parseInt(m.group(2)) + Integer.parseInt(m.group(4));
    assertEquals(4, tests, "E3 and H1 from both ends");
    assertEquals(4, failedOrErrors, "every run of E3 and H1 fails (bounded) on a transport that drops its FIN");
    for (String rule : List.of("E3", "H1")) {
      assertTrue(xml.contains("If this rule fails, check first"), rule + ": the failure says what to check first");
    }
    System.out.println("outside project: " + tests + " tests, " + failedOrErrors + " bounded failures; "
        + "build time from the report: " + xml.replaceAll("(?s).*?<testsuite[^>]*time=\"([0-9.,]+)\".*", "$1") + " s");
  }

  private static String tail(String s) {
    return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
  }
}
