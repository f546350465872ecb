package dev.braid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TransportOptionsTest {

  @Test
  void defaultsAreDocumentedValues() {
    TransportOptions o = TransportOptions.DEFAULTS;
    assertEquals(4096, o.maxStreams());
    assertEquals(1024, o.maxPendingInboundStreams());
    assertEquals(256 * 1024, o.receiveWindow());
    assertEquals(256 * 1024, o.maxFrameSize());
  }

  @Test
  void badValuesAreRejectedWithTheirName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TransportOptions.builder().maxStreams(0));
    assertEquals("maxStreams must be positive, was 0", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TransportOptions.builder().receiveWindow(1000));
    assertThrows(IllegalArgumentException.class, () -> TransportOptions.builder().idleTimeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> TransportOptions.builder().keepAliveInterval(Duration.ofSeconds(-1)));
  }

  @Test
  void propertiesRoundTripAndCanBeRemoved() {
    TransportOptions o = TransportOptions.builder().property("tls", "true").property("alpn", "braid").build();
    assertEquals("true", o.property("tls").orElseThrow());
    TransportOptions p = o.toBuilder().property("tls", null).build();
    assertEquals(false, p.property("tls").isPresent());
    assertEquals("braid", p.property("alpn").orElseThrow());
  }
}
