package dev.braid.transport.quic.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Netty QUIC transport end to end on loopback, below the kit: a stream each way, FIN, the byte counts. */
@Timeout(60)
class NettyQuicTransportTest {
  private final NettyQuicTransportProvider provider = new NettyQuicTransportProvider();

  @Test
  void aStreamCarriesBytesBothWaysAndEndsWithFin() throws Exception {
    assertTrue(provider.isAvailable(), () -> "unavailable: " + provider.unavailabilityCause());
    try (Transport server = provider.create(TransportOptions.DEFAULTS);
        Transport client = provider.create(TransportOptions.DEFAULTS)) {
      Listener l = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> accepted = l.accept();
      Connection c = client.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = accepted.get(20, TimeUnit.SECONDS);
      CompletableFuture<MuxedStream> in = s.acceptStream();
      MuxedStream out = c.openStream().get(20, TimeUnit.SECONDS);
      MuxedStream peer = in.get(20, TimeUnit.SECONDS); // seen before any byte: the preamble announced it
      out.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8))).get(20, TimeUnit.SECONDS);
      out.closeWrite().get(20, TimeUnit.SECONDS);
      byte[] got = peer.inputStream().readAllBytes();
      assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), got);
      assertEquals(5, out.bytesWritten());
      assertEquals(5, peer.bytesRead());
      peer.write(ByteBuffer.wrap(new byte[] {1, 2, 3})).get(20, TimeUnit.SECONDS);
      peer.closeWrite().get(20, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {1, 2, 3}, out.inputStream().readAllBytes());
      c.close();
      l.close();
    }
  }
}
