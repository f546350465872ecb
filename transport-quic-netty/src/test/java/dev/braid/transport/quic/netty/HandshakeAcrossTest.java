package dev.braid.transport.quic.netty;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many dials across the implementations, one listener. quiche answers a ClientHello on loopback in about 2 ms, fast
 * enough to land in agent15's window between sending the ClientHello and waiting for the ServerHello: before the kwik
 * plugin's hello gate (transport-quic, {@code Kwik0108} section 15) one kwik dial in 20 to 300 here timed out after
 * {@code connectTimeout}. Every dial must complete.
 */
@Timeout(600)
class HandshakeAcrossTest {
  private static final int ROUNDS = Integer.getInteger("braid.rounds", 400);

  @Test
  void kwikDialsNettyManyTimes() throws Exception {
    run(Kwik.provider(), new NettyQuicTransportProvider());
  }

  @Test
  void nettyDialsKwikManyTimes() throws Exception {
    run(new NettyQuicTransportProvider(), Kwik.provider());
  }

  private static void run(TransportProvider dialer, TransportProvider listener) throws Exception {
    try (Transport l = listener.create(TransportOptions.DEFAULTS);
        Transport d = dialer.create(TransportOptions.DEFAULTS)) {
      Listener lis = l.listen(URI.create("quic://127.0.0.1:0"));
      for (int round = 0; round < ROUNDS; round++) {
        CompletableFuture<Connection> acc = lis.accept();
        long t0 = System.nanoTime();
        Connection dc;
        try {
          dc = d.dial(lis.address()).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          throw new AssertionError("round " + round + " of " + ROUNDS + ": " + dialer.id() + " dialing "
              + listener.id() + " failed after " + (System.nanoTime() - t0) / 1_000_000 + " ms (replay: -Dbraid.rounds="
              + ROUNDS + ")", e);
        }
        Connection lc = acc.get(20, TimeUnit.SECONDS);
        dc.close();
        lc.close();
      }
    }
  }
}
