package dev.braid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class TransportRegistryTest {

  static class Fake implements TransportProvider {
    final String id;
    final Set<String> schemes;
    final int priority;
    final Throwable cause;

    Fake(String id, int priority, Throwable cause, String... schemes) {
      this.id = id;
      this.priority = priority;
      this.cause = cause;
      this.schemes = Set.of(schemes);
    }

    @Override public String id() { return id; }
    @Override public Set<String> schemes() { return schemes; }
    @Override public int priority() { return priority; }
    @Override public boolean isAvailable() { return cause == null; }
    @Override public Throwable unavailabilityCause() { return cause; }
    @Override public Set<Capability> capabilities() { return Set.of(); }
    @Override public URI testListenAddress() { return URI.create(id + "://127.0.0.1:0"); }
    @Override public Transport create(TransportOptions options) throws IOException {
      throw new IOException("fake");
    }
  }

  static class OtherFake extends Fake {
    OtherFake(String id) {
      super(id, 0, null, id);
    }
  }

  @Test
  void ordersByPriorityThenId() {
    TransportRegistry r = TransportRegistry.of(List.of(new Fake("b", 0, null, "b"), new Fake("a", 0, null, "a"),
        new Fake("z", 5, null, "z")));
    assertEquals(List.of("z", "a", "b"), r.all().stream().map(TransportProvider::id).collect(java.util.stream.Collectors.toList()));
  }

  @Test
  void rejectsDuplicateIds() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> TransportRegistry.of(List.of(new Fake("tcp", 0, null, "tcp"), new OtherFake("tcp"))));
    assertTrue(e.getMessage().contains("two transport providers claim id 'tcp'"), e.getMessage());
  }

  @Test
  void unknownSchemeListsTheAvailableOnes() {
    TransportRegistry r = TransportRegistry.of(List.of(new Fake("tcp", 0, null, "tcp", "tcp+tls"),
        new Fake("webrtc", 0, new IllegalStateException("libpulse0 missing: apt-get install -y libpulse0"), "webrtc")));
    TransportUnavailableException e = assertThrows(TransportUnavailableException.class, () -> r.forScheme("quic"));
    assertTrue(e.getMessage().contains("available schemes: [tcp, tcp+tls]"), e.getMessage());
    assertTrue(e.getMessage().contains("webrtc (libpulse0 missing"), e.getMessage());
  }

  @Test
  void unavailableTransportExplainsWhy() {
    Throwable cause = new IllegalStateException("libpulse0 missing: apt-get install -y libpulse0");
    TransportRegistry r = TransportRegistry.of(List.of(new Fake("webrtc", 0, cause, "webrtc")));
    TransportUnavailableException e = assertThrows(TransportUnavailableException.class, () -> r.forScheme("WEBRTC"));
    assertSame(cause, e.getCause());
    assertEquals(List.of(), r.available());
    assertEquals(1, r.unavailable().size());
  }

  @Test
  void higherPriorityWinsASharedScheme() throws Exception {
    Fake low = new Fake("low", 0, null, "x");
    Fake high = new Fake("high", 10, null, "x");
    assertSame(high, TransportRegistry.of(List.of(low, high)).forScheme("x"));
  }

  @Test
  void anUnavailableProviderLeavesItsSchemeToTheNextAvailableOne() throws Exception {
    // Two implementations of one scheme: the preferred one needs a native library that does not load here.
    Fake fast = new Fake("quic-native", 10, new UnsatisfiedLinkError("no libquiche for linux-aarch64"), "quic");
    Fake fallback = new Fake("quic-java", 0, null, "quic");
    TransportRegistry r = TransportRegistry.of(List.of(fast, fallback));
    assertSame(fallback, r.forScheme("quic"));
    assertEquals(List.of(fast, fallback), r.claimants("QUIC"), "every claimant, in order, available or not");
    assertEquals(List.of("quic"), r.availableSchemes());
  }

  @Test
  void aSchemeNoAvailableProviderCanServeNamesEveryClaimantAndWhy() {
    Throwable nativeCause = new UnsatisfiedLinkError("no libquiche for linux-aarch64");
    Fake fast = new Fake("quic-native", 10, nativeCause, "quic");
    Fake slow = new Fake("quic-java", 0, new IllegalStateException("needs Java 21"), "quic");
    TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
        () -> TransportRegistry.of(List.of(fast, slow)).forScheme("quic"));
    assertTrue(e.getMessage().contains("quic-native (no libquiche for linux-aarch64)")
        && e.getMessage().contains("quic-java (needs Java 21)"), e.getMessage());
    assertSame(nativeCause, e.getCause(), "the preferred provider's cause");
  }

  @Test
  void aProviderIsPickedByItsIdWhateverItsPriority() throws Exception {
    Fake fast = new Fake("quic-native", 10, null, "quic");
    Fake fallback = new Fake("quic-java", 0, null, "quic");
    TransportRegistry r = TransportRegistry.of(List.of(fast, fallback));
    assertSame(fast, r.forScheme("quic"));
    assertSame(fallback, r.forId("quic-java"));
    TransportUnavailableException unknown = assertThrows(TransportUnavailableException.class, () -> r.forId("tcp"));
    assertTrue(unknown.getMessage().contains("no Braid transport with id 'tcp'; ids: [quic-java, quic-native]"),
        unknown.getMessage());
    Throwable cause = new UnsatisfiedLinkError("no libquiche");
    TransportUnavailableException down = assertThrows(TransportUnavailableException.class,
        () -> TransportRegistry.of(List.of(new Fake("quic-native", 10, cause, "quic"))).forId("quic-native"));
    assertSame(cause, down.getCause());
  }

  @Test
  void braidDialFailsWithTheSchemeListForAnUnknownScheme() {
    try (Braid braid = Braid.create(TransportRegistry.of(List.of(new Fake("tcp", 0, null, "tcp"))),
        TransportOptions.DEFAULTS)) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> braid.dial(URI.create("carrier-pigeon://x")).get());
      assertTrue(e.getCause() instanceof TransportUnavailableException);
      assertTrue(e.getCause().getMessage().contains("[tcp]"), e.getCause().getMessage());
      assertThrows(IllegalArgumentException.class, () -> braid.dial(URI.create("no-scheme")));
    }
  }

  @Test
  void serviceLoaderFindsNothingOnAnEmptyClassPathWithoutFailing() {
    assertTrue(TransportRegistry.load(new ClassLoader(null) {}).all().isEmpty());
  }
}
