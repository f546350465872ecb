package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Braid;
import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.TransportOptions;
import dev.braid.TransportRegistry;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Discovery through {@link java.util.ServiceLoader} and use through {@link Braid}, as an application sees it. */
class TcpTransportProviderTest {

  @Test
  void isFoundByServiceLoaderForBothSchemes() throws Exception {
    TransportRegistry registry = TransportRegistry.load();
    assertInstanceOf(TcpTransportProvider.class, registry.forScheme("tcp"));
    assertInstanceOf(TcpTransportProvider.class, registry.forScheme("tcp+tls"));
    TcpTransportProvider p = new TcpTransportProvider();
    assertEquals("tcp", p.id());
    assertEquals(Set.of("tcp", "tcp+tls"), p.schemes());
    assertTrue(p.isAvailable());
    assertNull(p.unavailabilityCause());
    assertEquals(URI.create("tcp://127.0.0.1:0"), p.testListenAddress());
  }

  @Test
  void braidDialsAndListensOverTls() throws Exception {
    TransportRegistry registry = TransportRegistry.of(java.util.List.of(new TcpTransportProvider()));
    try (Braid braid = Braid.create(registry, TransportOptions.DEFAULTS)) {
      Listener l = braid.listen(URI.create("tcp+tls://127.0.0.1:0"));
      java.util.concurrent.CompletableFuture<Connection> acc = l.accept();
      Connection c = braid.dial(l.address()).get(30, TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(30, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {9})).get(30, TimeUnit.SECONDS);
      ByteBuffer one = ByteBuffer.allocate(1);
      assertEquals(1, acc.get(30, TimeUnit.SECONDS).acceptStream().get(30, TimeUnit.SECONDS).read(one)
          .get(30, TimeUnit.SECONDS));
      assertEquals(9, one.get(0));
    }
  }
}
