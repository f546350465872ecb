package dev.braid.transport.quic.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Kit rules C3 and C6 across the implementations, many times: a stream reset by one end right after it was opened or
 * accepted reaches the other end (seen failing about once per kit run, kwik on the other end staying OPEN).
 */
@Timeout(300)
class ImmediateResetAcrossTest {
  private static final int ROUNDS = 300;

  @Test
  void kwikOpensNettyAcceptsAndResetsAtOnce() throws Exception {
    run(Kwik.provider(), new NettyQuicTransportProvider(), false);
  }

  @Test
  void nettyOpensAndResetsAtOnceKwikAccepts() throws Exception {
    run(new NettyQuicTransportProvider(), Kwik.provider(), true);
  }

  private static void run(TransportProvider dialer, TransportProvider listener, boolean openerResets) throws Exception {
    try (Transport l = listener.create(TransportOptions.DEFAULTS); Transport d = dialer.create(TransportOptions.DEFAULTS)) {
      Listener lis = l.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> acc = lis.accept();
      Connection dc = d.dial(lis.address()).get(20, TimeUnit.SECONDS);
      Connection lc = acc.get(20, TimeUnit.SECONDS);
      for (int round = 0; round < ROUNDS; round++) {
        Connection opener = openerResets ? lc : dc;
        Connection acceptor = openerResets ? dc : lc;
        CompletableFuture<MuxedStream> in = acceptor.acceptStream();
        MuxedStream o = opener.openStream().get(20, TimeUnit.SECONDS);
        MuxedStream a = in.get(20, TimeUnit.SECONDS);
        MuxedStream resetter = openerResets ? o : a;
        MuxedStream other = openerResets ? a : o;
        resetter.reset(77);
        try {
          assertEquals(StreamState.RESET, other.terminated().get(10, TimeUnit.SECONDS), "round " + round);
        } catch (TimeoutException e) {
          throw new AssertionError("round " + round + ": " + other + " (" + other.connection().transportId()
              + ") is still " + other.state() + " 10 s after its peer's reset", e);
        }
      }
      dc.close();
    }
  }
}
