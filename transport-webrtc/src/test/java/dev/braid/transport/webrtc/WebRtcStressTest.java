package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.Kit;
import dev.braid.conformance.RandomizedRun;
import dev.braid.conformance.Side;
import dev.braid.conformance.TransportFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Slow runs, only with {@code -Pstress}: many randomized model runs, a 512 MiB checksummed transfer, a reset storm. */
@Tag("stress")
class WebRtcStressTest {
  @Test
  @Timeout(600)
  void manyRandomizedRuns() throws Exception {
    NetnsCheck.requireTestNamespace();
    Random seeds = new Random();
    try (TransportFixture f = TransportFixture.of(new WebRtcTransportProvider())) {
      for (int i = 0; i < 20; i++) {
        long seed = seeds.nextLong();
        List<ConnectionPair> made = new ArrayList<>();
        new RandomizedRun(seed, f, () -> {
          ConnectionPair p = f.connect();
          made.add(p);
          return p;
        }).run();
        for (ConnectionPair p : made) {
          Kit.closeAndWait(p.dialer());
          Kit.closeAndWait(p.listener());
        }
      }
    }
  }

  @Test
  @Timeout(600)
  void bigChecksummedTransferAndResetStorm() throws Exception {
    NetnsCheck.requireTestNamespace();
    try (TransportFixture f = TransportFixture.of(new WebRtcTransportProvider())) {
      ConnectionPair p = f.connect();
      Kit.StreamPair s = Kit.open(p, Side.DIALER);
      CompletableFuture<Kit.Digest> read = CompletableFuture.supplyAsync(() -> Kit.readDigest(s.remote()));
      Kit.Digest written = Kit.writeRandom(s.local(), 512L << 20, 99);
      s.local().closeWrite().get(60, TimeUnit.SECONDS);
      written.assertSame(read.get(300, TimeUnit.SECONDS), "512 MiB over one stream");
      s.remote().close();
      assertEquals(StreamState.CLOSED, s.local().terminated().get(30, TimeUnit.SECONDS));

      Connection d = p.dialer();
      List<MuxedStream> storm = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        storm.add(d.openStream().get(30, TimeUnit.SECONDS));
      }
      for (MuxedStream m : storm) {
        m.write(java.nio.ByteBuffer.wrap(new byte[1024]));
        m.reset(9);
      }
      for (MuxedStream m : storm) {
        assertEquals(StreamState.RESET, m.terminated().get(30, TimeUnit.SECONDS));
      }
      try {
        Kit.eventually(() -> p.listener().streams().isEmpty(), "the peer ends all 500 reset streams");
      } catch (AssertionError e) {
        java.util.Map<StreamState, Long> states = new java.util.TreeMap<>();
        p.listener().streams().forEach(m -> states.merge(m.state(), 1L, Long::sum));
        throw new AssertionError(e.getMessage() + "; left on the peer: " + states, e);
      }
      Kit.closeAndWait(p.dialer());
      Kit.closeAndWait(p.listener());
    }
  }
}
