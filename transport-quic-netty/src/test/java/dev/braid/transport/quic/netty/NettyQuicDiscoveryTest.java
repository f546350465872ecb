package dev.braid.transport.quic.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.TransportRegistry;
import dev.braid.spi.TransportProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two implementations of {@code quic://} found at run time, as an application finds them: which one the scheme
 * resolves to, and how to pick the other.
 */
class NettyQuicDiscoveryTest {
  @Test
  void bothImplementationsAreFoundAndQuicResolvesToKwikWhileThisOneHasKnownFailures() throws Exception {
    TransportRegistry registry = TransportRegistry.load();
    List<String> claimants = registry.claimants("quic").stream().map(TransportProvider::id).toList();
    assertEquals(List.of("quic", "quic-netty"), claimants, "highest priority first");
    assertEquals("quic", registry.forScheme("quic").id());
    TransportProvider netty = registry.forId("quic-netty");
    assertTrue(netty.isAvailable(), () -> "unavailable here: " + netty.unavailabilityCause());
    assertEquals(NettyQuicTransportProvider.class, netty.getClass());
  }
}
