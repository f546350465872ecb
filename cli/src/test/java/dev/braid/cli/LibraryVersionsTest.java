package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.TransportRegistry;
import dev.braid.spi.TransportProvider;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every bundled transport names the libraries it runs on, with the versions found at run time (read from their jars,
 * without loading native code), as the conformance report's head shows them.
 */
class LibraryVersionsTest {
  private static final Map<String, String> EXPECTED = Map.of(
      "tcp", "netty-transport=4\\.2\\.\\d+\\.Final, netty-handler=4\\.2\\.\\d+\\.Final",
      "quic", "kwik=0\\.10\\.\\d+, agent15=3\\.\\d+",
      "quic-netty", "netty-codec-classes-quic=4\\.2\\.\\d+\\.Final, netty-codec-native-quic=4\\.2\\.\\d+\\.Final, "
          + "netty-transport=4\\.2\\.\\d+\\.Final",
      "webrtc", "webrtc-java=0\\.14\\.\\d+, netty-codec-http=4\\.2\\.\\d+\\.Final");

  @Test
  void eachBundledTransportReportsItsLibraries() {
    TransportRegistry registry = TransportRegistry.load(getClass().getClassLoader());
    for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
      TransportProvider p = registry.all().stream().filter(x -> x.id().equals(e.getKey())).findFirst().orElseThrow();
      String shown = String.join(", ", p.libraryVersions().entrySet().stream()
          .map(v -> v.getKey() + "=" + v.getValue()).toList());
      assertTrue(shown.matches(e.getValue()), e.getKey() + ": " + shown);
    }
    assertEquals(Map.of(), registry.all().stream().filter(x -> x.id().equals("mem")).findFirst().orElseThrow()
        .libraryVersions(), "the reference transport runs on nothing but Braid");
  }
}
