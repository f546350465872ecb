package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code braid conformance --transport webrtc} as a user runs it, in a process of its own inside a private network
 * namespace (WebRTC never uses loopback; transport-webrtc/src/test/netns/bin/java, as bin/braid does as root): it
 * passes and ends without native noise on its standard output or error.
 *
 * <p>The noise: webrtc-java 0.14.0 keeps JNI global references in static maps of its native library, whose C++
 * destructors run at {@code exit()} on HotSpot's "VM Thread", which may not attach to the JVM; each attempt prints
 * "VM attach current thread failed" and "Failed to attach thread N" to standard output (transport-webrtc/README.md).
 * Nothing in Braid can stop a JVM that loaded the library from printing them. The command line therefore never loads
 * a transport's native code in its own JVM: the JVMs that do (the availability check, the webrtc column of conformance
 * and of bench) write to their logs under {@code reports/}, which keep everything they printed; echo-server's and
 * echo-client's relay their Java output through a file ({@link Relay}), their descriptors going to a temporary log.
 */
class CleanExitOverWebRtcTest {
  @TempDir
  Path dir;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void aConformanceRunOverWebRtcEndsWithoutNativeNoise() throws Exception {
    Path wrapper = Path.of(System.getProperty("basedir", "."), "..", "transport-webrtc", "src", "test", "netns", "bin",
        "java").normalize().toAbsolutePath();
    assertTrue(Files.isExecutable(wrapper), "the network namespace wrapper is missing: " + wrapper);
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path reports = dir.resolve("reports");
    Path stdout = dir.resolve("stdout.txt");
    Path stderr = dir.resolve("stderr.txt");
    List<String> cmd = new ArrayList<>(List.of(wrapper.toString(), "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "conformance", "--transport", "webrtc", "--rule", "D1,H1", "--reports",
        reports.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    pb.environment().put("BRAID_REAL_JAVA", java);
    Process cli = pb.start();
    try {
      boolean ended = cli.waitFor(5, TimeUnit.MINUTES);
      assertTrue(ended, "braid conformance --transport webrtc did not end within 5 min:\n" + read(stdout)
          + read(stderr));
    } finally {
      List<ProcessHandle> family = new ArrayList<>(cli.descendants().toList());
      family.forEach(ProcessHandle::destroyForcibly);
      cli.destroyForcibly();
      cli.waitFor(30, TimeUnit.SECONDS);
      for (ProcessHandle h : family) {
        h.onExit().get(30, TimeUnit.SECONDS);
      }
    }
    String out = read(stdout);
    String err = read(stderr);
    assertEquals(0, cli.exitValue(), "the run passes over WebRTC (exit 97 is the wrapper: it needs root and "
        + "iproute2):\n" + out + err + "\nwebrtc's log:\n" + read(reports.resolve("conformance-webrtc.log")));
    assertTrue(out.contains("webrtc   done in") && out.contains("webrtc   4 passed, 0 failed, 0 skipped"), out);
    for (String stream : List.of(out, err)) {
      String lower = stream.toLowerCase(Locale.ROOT);
      assertFalse(lower.contains("attach"), "native noise at exit:\n" + stream);
    }
    assertEquals("", err, "nothing on standard error");
    // Where the JVMs that loaded webrtc-java wrote: their logs are whole (the child's last line is there).
    assertTrue(read(reports.resolve("conformance-webrtc.log")).length() > 0, "the webrtc column's log");
    assertTrue(read(reports.resolve("availability.tsv")).contains("webrtc\tyes"), "the availability check's answer");
  }

  /**
   * {@code braid bench --transport webrtc} (tiny sizes: every figure once) in a process of its own in a private network
   * namespace: the webrtc column is measured in a child JVM, whose rows reach the report and whose output, whole, is in
   * {@code reports/bench-webrtc.log}; the JVM the user started prints the progress and the table, and nothing at exit.
   */
  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aBenchOverWebRtcEndsWithoutNativeNoise() throws Exception {
    Path reports = dir.resolve("bench-reports");
    Path stdout = dir.resolve("bench-stdout.txt");
    Path stderr = dir.resolve("bench-stderr.txt");
    ProcessBuilder pb = new ProcessBuilder(wrapper().toString(), "-Dbraid.bench.tiny=true", "-cp", cliClassPath(),
        Main.class.getName(), "bench", "--transport", "webrtc", "--reports",
        reports.toString()).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    pb.environment().put("BRAID_REAL_JAVA", ProcessHandle.current().info().command().orElseThrow());
    int status = runToEnd(pb.start(), 3, "braid bench --transport webrtc", stdout, stderr);
    String out = read(stdout);
    String err = read(stderr);
    assertEquals(0, status, "the bench runs over WebRTC (exit 97 is the wrapper: it needs root and iproute2):\n" + out
        + err + "\nwebrtc's log:\n" + read(reports.resolve("bench-webrtc.log")));
    assertTrue(out.startsWith("bench webrtc against webrtc-java"), "the child's progress, relayed:\n" + out);
    assertTrue(out.contains("| webrtc | throughput, 1 stream |"), "the table of the child's rows:\n" + out);
    for (String stream : List.of(out, err)) {
      assertFalse(stream.toLowerCase(Locale.ROOT).contains("attach"), "native noise at exit:\n" + stream);
    }
    assertEquals("", err, "nothing on standard error");
    String md = read(reports.resolve("bench.md"));
    assertTrue(md.contains("| webrtc | round trip, 64 B (median), caller blocks |"), md);
    assertTrue(Files.exists(reports.resolve("bench.html")) && Files.exists(reports.resolve("bench.svg")));
    assertTrue(read(reports.resolve("bench-webrtc.log")).contains("bench webrtc against"), "the column's own log");
    assertTrue(read(reports.resolve("availability.tsv")).contains("webrtc\tyes"), "the availability check's answer");
  }

  /**
   * {@code braid echo-server webrtc://...} and {@code braid echo-client URI MESSAGE}, each in a process of its own in
   * one private network namespace (a script the wrapper runs in place of java): the message comes back, and neither
   * prints anything but its own lines, the server not even when it is stopped (SIGTERM, as {@code kill} sends). Their
   * transports ran in child JVMs whose logs were temporary: nothing is left behind.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void echoOverWebRtcEndsWithoutNativeNoise() throws Exception {
    Path work = Files.createDirectories(dir.resolve("echo"));
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path script = work.resolve("echo-in-netns.sh");
    Files.writeString(script, String.join("\n",
        "#!/usr/bin/env bash",
        "# Run by the netns wrapper in place of java, both ends in its namespace: echo-in-netns.sh JAVA CLASSPATH DIR.",
        "# (Arguments, not environment variables: the wrapper's own variables, JAVA among them, would replace them.)",
        "set -u",
        "cd \"$3\" || exit 1",
        "braid=(\"$1\" -Djava.io.tmpdir=\"$3/tmp\" -cp \"$2\" dev.braid.cli.Main)",
        "[ \"$(readlink -f \"$1\")\" != \"$(readlink -f \"$0\")\" ] || exit 1",
        "\"${braid[@]}\" echo-server \"webrtc://$BRAID_WEBRTC_TEST_ADDRESS:0\" > server.out 2> server.err < /dev/null &",
        "server=$!",
        "uri=''",
        "for _ in $(seq 1 600); do",
        "  uri=$(sed -n 's/^echo-server listening on //p' server.out)",
        "  [ -n \"$uri\" ] && break",
        "  kill -0 $server 2>/dev/null || break",
        "  sleep 0.1",
        "done",
        "if [ -n \"$uri\" ]; then",
        "  timeout 120 \"${braid[@]}\" echo-client \"$uri\" 'hello over webrtc' > client.out 2> client.err < /dev/null",
        "  echo $? > client.rc",
        "fi",
        "sleep 1",
        "kill -TERM $server 2>/dev/null",
        "wait $server",
        "echo $? > server.rc",
        ""), StandardCharsets.UTF_8);
    assertTrue(script.toFile().setExecutable(true));
    ProcessBuilder pb = new ProcessBuilder(wrapper().toString(), ProcessHandle.current().info().command().orElseThrow(),
        cliClassPath(), work.toString()).redirectOutput(work.resolve("script.out").toFile()).redirectErrorStream(true);
    pb.environment().put("BRAID_REAL_JAVA", script.toString()); // the wrapper runs it in place of java
    int status = runToEnd(pb.start(), 2, "echo-server and echo-client over webrtc", work.resolve("script.out"),
        work.resolve("server.err"));
    String all = "script:\n" + read(work.resolve("script.out")) + "\nserver:\n" + read(work.resolve("server.out"))
        + read(work.resolve("server.err")) + "\nclient:\n" + read(work.resolve("client.out"))
        + read(work.resolve("client.err"));
    assertEquals(0, status, "exit 97 is the wrapper: it needs root and iproute2\n" + all);
    assertEquals("0", read(work.resolve("client.rc")).strip(), all);
    assertEquals("hello over webrtc\n", read(work.resolve("client.out")), all);
    assertEquals("", read(work.resolve("client.err")), all);
    String server = read(work.resolve("server.out"));
    assertTrue(server.startsWith("echo-server listening on webrtc://") && server.contains("connection from "), all);
    assertEquals("", read(work.resolve("server.err")), all);
    assertEquals("143", read(work.resolve("server.rc")).strip(), "stopped by SIGTERM, as a JVM is\n" + all);
    assertFalse(all.toLowerCase(Locale.ROOT).contains("attach"), "native noise at exit:\n" + all);
    try (java.util.stream.Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList(), "the child JVMs' temporary logs are removed");
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void listingTheTransportsEndsWithoutNativeNoise() throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path stdout = dir.resolve("transports-stdout.txt");
    Path stderr = dir.resolve("transports-stderr.txt");
    Process cli = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "transports").redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    try {
      assertTrue(cli.waitFor(2, TimeUnit.MINUTES), "braid transports did not end within 2 min:\n" + read(stdout)
          + read(stderr));
    } finally {
      cli.descendants().forEach(ProcessHandle::destroyForcibly);
      cli.destroyForcibly();
      cli.waitFor(30, TimeUnit.SECONDS);
    }
    String out = read(stdout);
    assertEquals(0, cli.exitValue(), out + read(stderr));
    // webrtc-java's library loads here (no network needed): the availability check did load it, in its own JVM.
    assertTrue(out.matches("(?s).*\\nwebrtc\\s+yes\\s.*"), "webrtc is listed as available:\n" + out);
    assertTrue(out.matches("(?s).*\\nquic://\\s+quic\\s.*"), "the scheme table:\n" + out);
    assertFalse(out.toLowerCase(Locale.ROOT).contains("attach"), "native noise at exit:\n" + out);
    assertEquals("", read(stderr), "nothing on standard error");
  }

  private static Path wrapper() {
    Path wrapper = Path.of(System.getProperty("basedir", "."), "..", "transport-webrtc", "src", "test", "netns", "bin",
        "java").normalize().toAbsolutePath();
    assertTrue(Files.isExecutable(wrapper), "the network namespace wrapper is missing: " + wrapper);
    return wrapper;
  }

  /**
   * This test JVM's class path without slf4j-api, which ArchUnit brings in (test scope) and bin/braid's jar does not
   * have: with it and no provider, Netty's first logger prints SLF4J's three-line warning to standard error.
   */
  private static String cliClassPath() {
    return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .filter(e -> !Path.of(e).getFileName().toString().startsWith("slf4j-api"))
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
  }

  /**
   * Waits up to {@code minutes} for {@code p} (the network namespace wrapper) to end; its exit status. Then, or on
   * time-out, ends it and everything it started: first with SIGTERM, on which the wrapper ends its JVM and removes its
   * namespace, then forcibly.
   */
  private static int runToEnd(Process p, long minutes, String what, Path stdout, Path stderr) throws Exception {
    try {
      assertTrue(p.waitFor(minutes, TimeUnit.MINUTES), what + " did not end within " + minutes + " min:\n"
          + read(stdout) + read(stderr));
      return p.exitValue();
    } finally {
      List<ProcessHandle> family = new ArrayList<>(p.descendants().toList());
      p.destroy();
      p.waitFor(15, TimeUnit.SECONDS);
      family.forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
      for (ProcessHandle h : family) {
        h.onExit().get(30, TimeUnit.SECONDS);
      }
    }
  }

  private static String read(Path f) throws IOException {
    return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "(no " + f.getFileName() + ")";
  }
}
