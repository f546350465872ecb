package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.reference.Breakage;
import dev.braid.conformance.reference.MemTransportProvider;
import dev.braid.spi.TransportProvider;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kit's cross-implementation mode ({@link TransportFixture#across}) finds a defect of either implementation:
 * with one end made by a correct implementation and the other by a broken one, in either direction, the rules that
 * exist to catch the defect fail. (That the mode passes two correct implementations is {@link
 * MemCrossConformanceTest}.)
 */
class CrossImplementationTest {

  static Stream<Arguments> brokenEnds() {
    return Stream.of(Breakage.FIN_DROPPED, Breakage.RESET_CODE_DROPPED, Breakage.EOF_BEFORE_DATA)
        .flatMap(b -> Stream.of(Arguments.of(b, "listener"), Arguments.of(b, "dialer")));
  }

  @ParameterizedTest(name = "{0} at the {1}")
  @MethodSource("brokenEnds")
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aDefectOfEitherImplementationIsCaught(Breakage breakage, String brokenEnd) {
    MemTransportProvider broken = MemTransportProvider.secondImplementation(breakage);
    CrossTarget.dialer = brokenEnd.equals("dialer") ? broken : new MemTransportProvider();
    CrossTarget.listener = brokenEnd.equals("listener") ? broken : new MemTransportProvider();
    Duration normal = Kit.waitLimit();
    Kit.setWaitLimit(Duration.ofSeconds(3)); // a broken end is expected to time out: do not wait 30 s
    System.setProperty(CloseWriteAtScale.STREAMS_PROPERTY, "2000");
    System.setProperty(RaceRun.ROUNDS_PROPERTY, "250");
    try {
      TreeSet<String> failed = new TreeSet<>(KitSelfTest.run(CrossTarget.class, breakage.caughtBy()));
      System.out.println("cross-implementation self-test: " + breakage + " at the " + brokenEnd + ": rules "
          + new TreeSet<>(breakage.caughtBy()) + " ran; failed: " + failed);
      TreeSet<String> missed = new TreeSet<>(breakage.caughtBy());
      missed.removeAll(failed);
      assertTrue(missed.isEmpty(), "with only the " + brokenEnd + "'s implementation broken (" + breakage
          + "), the rules " + missed + " passed");
    } finally {
      CrossTarget.dialer = new MemTransportProvider();
      CrossTarget.listener = new MemTransportProvider();
      Kit.setWaitLimit(normal);
      System.clearProperty(CloseWriteAtScale.STREAMS_PROPERTY);
      System.clearProperty(RaceRun.ROUNDS_PROPERTY);
    }
  }

  @Test
  void aCrossFixtureNamesBothAndOffersOnlyWhatBothCanDo() throws Exception {
    TransportProvider full = new MemTransportProvider();
    TransportProvider fewer = new Declaring("mem-lite", EnumSet.of(Capability.RESET_CODES));
    try (TransportFixture f = TransportFixture.across(fewer, full, TransportOptions.DEFAULTS)) {
      assertEquals("mem-lite→mem", f.transportId());
      assertEquals(Set.of(Capability.RESET_CODES), f.capabilities(), "a rule runs only if both ends can do it");
    }
    try (TransportFixture same = TransportFixture.of(full)) {
      assertEquals("mem", same.transportId());
      assertEquals(full.capabilities(), same.capabilities());
    }
  }

  /** A provider that only declares (never creates) transports: for the fixture's bookkeeping. */
  private record Declaring(String id, Set<Capability> capabilities) implements TransportProvider {
    @Override public Set<String> schemes() { return Set.of("mem"); }
    @Override public boolean isAvailable() { return true; }
    @Override public Throwable unavailabilityCause() { return null; }
    @Override public URI testListenAddress() { return URI.create("mem://test:0"); }
    @Override public Transport create(TransportOptions options) throws IOException {
      throw new IOException("declares only");
    }
  }
}
