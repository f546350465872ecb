package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.spi.TransportProvider;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Discovery, and what the provider says when webrtc-java's natives cannot load (checked in a child JVM). */
class WebRtcAvailabilityTest {
  @Test
  void foundByServiceLoaderAndAvailableHere() {
    List<TransportProvider> found = ServiceLoader.load(TransportProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.id().equals("webrtc"))
        .collect(Collectors.toList());
    assertEquals(1, found.size(), "exactly one webrtc provider on the class path");
    TransportProvider p = found.get(0);
    assertEquals(java.util.Set.of("webrtc"), p.schemes());
    assertTrue(p.isAvailable(), () -> "webrtc is unavailable here: " + p.unavailabilityCause());
    assertNull(p.unavailabilityCause());
  }

  /** Child JVM entry point: prints what the provider reports, and whether create() refused cleanly. */
  public static void main(String[] args) {
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    System.out.println("constructed");
    System.out.println("available=" + p.isAvailable());
    System.out.println("cause=" + p.unavailabilityCause());
    try {
      p.create(dev.braid.TransportOptions.DEFAULTS).close();
      System.out.println("create=ok");
    } catch (java.io.IOException e) {
      System.out.println("create=refused " + e.getMessage());
    }
  }

  @Test
  void withoutTheNativeLibraryTheProviderIsUnavailableAndSaysWhatToInstall() throws Exception {
    // The same class path minus webrtc-java's linux-x86_64 jar: loading the natives fails.
    String cp = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !e.contains("linux-x86_64"))
        .collect(Collectors.joining(File.pathSeparator));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", cp, WebRtcAvailabilityTest.class.getName()));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try {
      out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM ended");
    } finally {
      child.destroyForcibly();
    }
    assertEquals(0, child.exitValue(), "no crash: " + out);
    assertTrue(out.contains("constructed"), out);
    assertTrue(out.contains("available=false"), out);
    assertTrue(out.contains("apt-get install -y libpulse0"), out);
    assertTrue(out.contains("create=refused"), out);
  }
}
