package dev.braid.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.spi.BenchBaseline;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@code braid bench} finds each transport's baseline where it lives, by ServiceLoader as {@link Bench} does. */
class BaselineDiscoveryTest {
  @Test
  void theBundledBaselinesAreFound() {
    Set<String> ids = ServiceLoader.load(BenchBaseline.class, Bench.class.getClassLoader()).stream()
        .map(p -> p.get().transportId()).collect(Collectors.toSet());
    assertTrue(ids.containsAll(Set.of("tcp", "quic", "webrtc")), "baselines found: " + ids);
  }
}
