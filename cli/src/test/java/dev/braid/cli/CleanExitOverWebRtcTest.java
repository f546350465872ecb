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
 * a transport's native code in its own JVM: the JVMs that do (the availability check, the webrtc column) write to
 * their logs under {@code reports/}, which keep everything they printed.
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

  private static String read(Path f) throws IOException {
    return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "(no " + f.getFileName() + ")";
  }
}
