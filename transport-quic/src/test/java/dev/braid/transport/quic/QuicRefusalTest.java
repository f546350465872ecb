package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Refusals (SPEC §6) beyond what rule N8 covers: the reserved code {@code REFUSED} on the wire as an independent peer
 * (Netty/quiche) sees it, a refusal by a full accept backlog, and an opener whose peer grants no stream credit.
 */
class QuicRefusalTest {

  /** A refusal by Braid's stream limit reaches a quiche peer as RESET_STREAM with code REFUSED, not 0x0b. */
  @Test
  void aRefusalCarriesTheReservedCodeOnTheWire() throws Exception {
    Transport braid = new QuicTransportProvider().create(TransportOptions.builder().maxStreams(2).build());
    NettyQuicPeer netty = null;
    try {
      Listener listener = braid.listen(URI.create("quic://127.0.0.1:0"));
      Connection accepted = null;
      for (int attempt = 1; accepted == null; attempt++) { // kwik/quiche handshakes fail now and then (README)
        CompletableFuture<Connection> a = listener.accept();
        try {
          netty = NettyQuicPeer.client(listener.address());
          accepted = a.get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.out.println("QUIC refusal: handshake attempt " + attempt + " failed: " + e);
          if (netty != null) {
            netty.close();
            netty = null;
          }
          if (attempt == 3) {
            throw e;
          }
        }
      }
      List<MuxedStream> held = new ArrayList<>();
      accepted.setStreamHandler(held::add);
      List<NettyQuicPeer.PeerStream> opened = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        NettyQuicPeer.PeerStream s = netty.open();
        s.write(new byte[] {1}, false).sync();
        opened.add(s);
      }
      assertEquals(StreamResetException.REFUSED, (long) opened.get(2).reset.get(20, TimeUnit.SECONDS),
          "the third stream, beyond maxStreams=2, is refused with the reserved code REFUSED");
      assertTrue(!opened.get(0).reset.isDone() && !opened.get(1).reset.isDone(), "the first two are accepted");
      assertEquals(2, held.size(), "two streams accepted");
    } finally {
      if (netty != null) {
        netty.close();
      }
      braid.close();
    }
  }

  /** A stream refused because the accept backlog is full reads as the peer's refusal at the opener. */
  @Test
  void aFullAcceptBacklogRefusesRemotely() throws Exception {
    try (QuicPair p = QuicPair.connect(TransportOptions.builder().maxPendingInboundStreams(1).build())) {
      MuxedStream first = p.dialer.openStream().get(20, TimeUnit.SECONDS);
      first.write(ByteBuffer.wrap(new byte[] {1})).get(20, TimeUnit.SECONDS);
      // nobody accepts: the first stream waits in the backlog (it is registered there), the second finds it full
      dev.braid.conformance.Kit.eventually(() -> p.accepted.streams().size() == 1,
          "the first stream reached the acceptor's backlog");
      MuxedStream second = p.dialer.openStream().get(20, TimeUnit.SECONDS);
      second.write(ByteBuffer.wrap(new byte[] {2}));
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> second.read(ByteBuffer.allocate(1)).get(20, TimeUnit.SECONDS));
      StreamRefusedException r = assertInstanceOf(StreamRefusedException.class, e.getCause());
      assertTrue(r.isRemote(), "refused by the peer: " + r);
      assertEquals(StreamResetException.REFUSED, r.code());
      assertEquals(StreamState.RESET, second.terminated().get(20, TimeUnit.SECONDS));
      MuxedStream a = p.accepted.acceptStream().get(20, TimeUnit.SECONDS);
      ByteBuffer one = ByteBuffer.allocate(1);
      assertEquals(1, (int) a.read(one).get(20, TimeUnit.SECONDS));
      assertEquals(1, one.get(0), "the backlogged stream is the first one, intact");
      assertTrue(p.dialer.isOpen() && p.accepted.isOpen());
    }
  }

  /**
   * quiche grants exactly its limit and more only as streams end: an open beyond it waits for MAX_STREAMS that does
   * not come while the peer holds its streams. After {@code connectTimeout} the open fails with the peer's limit as
   * the reason: {@link StreamRefusedException}, remote, code REFUSED. The connection stays usable.
   */
  @Test
  void aPeerThatGrantsNoCreditRefusesTheOpen() throws Exception {
    Transport braid = new QuicTransportProvider().create(
        TransportOptions.builder().connectTimeout(Duration.ofSeconds(2)).build());
    NettyQuicPeer netty = null;
    try {
      Connection c = null;
      for (int attempt = 1; c == null; attempt++) { // kwik/quiche handshakes fail now and then (README)
        try {
          netty = NettyQuicPeer.server(2);
          c = braid.dial(netty.braidAddress()).get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.out.println("QUIC refusal: handshake attempt " + attempt + " failed: " + e);
          if (netty != null) {
            netty.close();
            netty = null;
          }
          if (attempt == 3) {
            throw e;
          }
        }
      }
      List<MuxedStream> streams = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
        s.write(ByteBuffer.wrap(new byte[] {1})).get(20, TimeUnit.SECONDS);
        netty.accept();
        streams.add(s);
      }
      long start = System.nanoTime();
      Connection conn = c;
      ExecutionException e = assertThrows(ExecutionException.class, () -> conn.openStream().get(20, TimeUnit.SECONDS));
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      StreamRefusedException r = assertInstanceOf(StreamRefusedException.class, e.getCause());
      assertTrue(r.isRemote(), "the peer's stream limit refused it: " + r);
      assertEquals(StreamResetException.REFUSED, r.code());
      assertTrue(waited >= 1500, "it waited for credit about connectTimeout (2 s), waited " + waited + " ms");
      assertTrue(c.isOpen(), "the connection stays usable");
      MuxedStream s = streams.get(0);
      ByteBuffer b = ByteBuffer.wrap(new byte[] {2});
      s.write(b).get(20, TimeUnit.SECONDS);
      assertEquals(StreamState.OPEN, s.state());
    } finally {
      if (netty != null) {
        netty.close();
      }
      braid.close();
    }
  }
}
