package dev.braid.transport.quic.netty.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.quic.netty.NettyQuicTransportProvider;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Both ends of a stream read from quiche only when Braid asks: the stream its opener made too. Netty's
 * {@code streamOption(AUTO_READ, false)} reaches only the peer's streams; before the fix the opener's end read without
 * bound, so a slow reader there never held the peer back (quiche returns credit for what Netty reads).
 */
@Timeout(60)
class ReadOnlyWhenAskedTest {
  @Test
  void bothEndsOfAStreamReadOnlyWhenAsked() throws Exception {
    NettyQuicTransportProvider provider = new NettyQuicTransportProvider();
    try (Transport server = provider.create(TransportOptions.DEFAULTS);
        Transport client = provider.create(TransportOptions.DEFAULTS)) {
      Listener l = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> accepted = l.accept();
      Connection c = client.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = accepted.get(20, TimeUnit.SECONDS);
      for (Connection[] ends : new Connection[][] {{c, s}, {s, c}}) {
        CompletableFuture<MuxedStream> in = ends[1].acceptStream();
        MuxedStream opened = ends[0].openStream().get(20, TimeUnit.SECONDS);
        MuxedStream peer = in.get(20, TimeUnit.SECONDS);
        assertTrue(((NettyQuicMuxedStream) opened).readsOnlyWhenAsked(), "the opener's end of " + opened);
        assertTrue(((NettyQuicMuxedStream) peer).readsOnlyWhenAsked(), "the acceptor's end of " + peer);
        opened.reset(0);
      }
      c.close();
    }
  }
}
