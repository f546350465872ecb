package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.tls.CertificatePins;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.frame.ResetStreamFrame;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.log.NullLogger;

/**
 * Braid's QUIC mapping 1 (README, "Stream preamble"): the opener's first byte on every stream is the preamble 0x00,
 * written before {@code openStream()} completes; the acceptor takes it off before anything reaches Braid's core, so it
 * is never read, never counted in {@code bytesRead}/{@code bytesWritten}, and a stream whose first byte is something
 * else (or that ends before its first byte) fails instead of delivering it. Against Braid itself, against Netty/quiche
 * (which sees a stream only through its first byte), and against a raw kwik client sending frames of its own.
 */
class QuicPreambleTest {
  private static final Logger QUIC_LOG = Logger.getLogger("dev.braid.transport.quic");
  private final List<String> warnings = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
        warnings.add(new SimpleFormatter().formatMessage(r));
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void captureWarnings() {
    QUIC_LOG.addHandler(capture);
  }

  @AfterEach
  void stopCapturing() {
    QUIC_LOG.removeHandler(capture);
  }

  // ---------------------------------------------------------------- Braid to Braid

  @ParameterizedTest(name = "dialer opens: {0}")
  @ValueSource(booleans = {true, false})
  void thePreambleIsNeverApplicationData(boolean dialerOpens) throws Exception {
    try (QuicPair p = QuicPair.connect(TransportOptions.DEFAULTS)) {
      Connection opener = dialerOpens ? p.dialer : p.accepted;
      Connection acceptor = dialerOpens ? p.accepted : p.dialer;
      MuxedStream out = opener.openStream().get(20, TimeUnit.SECONDS);
      MuxedStream in = acceptor.acceptStream().get(20, TimeUnit.SECONDS); // nothing written yet: the preamble announced it
      assertEquals(0, in.inputStream().available(), "the preamble is not readable");

      byte[] ping = "ping!".getBytes(StandardCharsets.US_ASCII);
      out.write(ByteBuffer.wrap(ping)).get(20, TimeUnit.SECONDS);
      out.closeWrite().get(20, TimeUnit.SECONDS);
      assertArrayEquals(ping, QuicInteropTest.readExactly(in, ping.length));
      assertEquals(-1, (int) in.read(ByteBuffer.allocate(8)).get(20, TimeUnit.SECONDS));

      byte[] pong = "pong!!!".getBytes(StandardCharsets.US_ASCII);
      in.write(ByteBuffer.wrap(pong)).get(20, TimeUnit.SECONDS);
      in.closeWrite().get(20, TimeUnit.SECONDS);
      assertArrayEquals(pong, QuicInteropTest.readExactly(out, pong.length));
      assertEquals(-1, (int) out.read(ByteBuffer.allocate(8)).get(20, TimeUnit.SECONDS));

      assertEquals(StreamState.CLOSED, out.terminated().get(20, TimeUnit.SECONDS));
      assertEquals(StreamState.CLOSED, in.terminated().get(20, TimeUnit.SECONDS));
      assertEquals(ping.length, out.bytesWritten(), "opener bytesWritten");
      assertEquals(ping.length, in.bytesRead(), "acceptor bytesRead");
      assertEquals(pong.length, in.bytesWritten(), "acceptor bytesWritten");
      assertEquals(pong.length, out.bytesRead(), "opener bytesRead");
    }
    assertEquals(List.of(), warnings);
  }

  @ParameterizedTest(name = "dialer opens: {0}")
  @ValueSource(booleans = {true, false})
  void anOpenFollowedAtOnceByCloseWriteIsAnEmptyStreamWithFin(boolean dialerOpens) throws Exception {
    try (QuicPair p = QuicPair.connect(TransportOptions.DEFAULTS)) {
      Connection opener = dialerOpens ? p.dialer : p.accepted;
      Connection acceptor = dialerOpens ? p.accepted : p.dialer;
      MuxedStream out = opener.openStream().get(20, TimeUnit.SECONDS);
      out.closeWrite().get(20, TimeUnit.SECONDS);
      MuxedStream in = acceptor.acceptStream().get(20, TimeUnit.SECONDS);
      assertEquals(-1, (int) in.read(ByteBuffer.allocate(8)).get(20, TimeUnit.SECONDS), "EOF, not the preamble");
      assertEquals(0, in.bytesRead());
      assertEquals(StreamState.READ_CLOSED, in.state());
      in.closeWrite().get(20, TimeUnit.SECONDS);
      assertEquals(-1, (int) out.read(ByteBuffer.allocate(8)).get(20, TimeUnit.SECONDS));
      assertEquals(StreamState.CLOSED, in.terminated().get(20, TimeUnit.SECONDS));
      assertEquals(StreamState.CLOSED, out.terminated().get(20, TimeUnit.SECONDS));
      assertEquals(0, out.bytesWritten());
      assertEquals(0, out.bytesRead());
    }
    assertEquals(List.of(), warnings);
  }

  // ---------------------------------------------------------------- against Netty/quiche

  /**
   * quiche can neither send nor see a zero-length STREAM frame (cloudflare/quiche#731): under mapping 0 a stream Braid
   * opened was invisible to it until its first byte. The preamble makes it visible, and is all Netty sees before the
   * application's bytes.
   */
  @Test
  void aStreamThatSaysNothingIsSeenByQuicheThroughItsPreamble() throws Exception {
    Transport braid = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    try (NettyQuicPeer netty = NettyQuicPeer.server()) {
      Connection c = braid.dial(netty.braidAddress()).get(20, TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
      NettyQuicPeer.PeerStream ns = netty.accept(); // before any write: the preamble announced the stream
      assertEquals(0x00, (int) ns.preamble.get(20, TimeUnit.SECONDS));
      byte[] abc = {'a', 'b', 'c'};
      s.write(ByteBuffer.wrap(abc)).get(20, TimeUnit.SECONDS);
      s.closeWrite().get(20, TimeUnit.SECONDS);
      ns.fin.get(20, TimeUnit.SECONDS);
      assertArrayEquals(abc, ns.firstBytes(), "Netty's bytes after the preamble");
      assertEquals(3, ns.received);
      assertEquals(3, s.bytesWritten());
      assertTrue(ns.errors.isEmpty(), "Netty stream errors: " + ns.errors);
      assertTrue(netty.errors().isEmpty(), "Netty errors: " + netty.errors());
    } finally {
      braid.close();
    }
  }

  @Test
  void aNettyStreamOfThePreambleAndFinIsAnEmptyStream() throws Exception {
    try (NettyClient nc = NettyClient.connect()) {
      Connection c = nc.braid();
      NettyQuicPeer.PeerStream ns = nc.netty().openRaw(new byte[] {0x00}, true); // preamble and FIN in one frame
      MuxedStream s = c.acceptStream().get(20, TimeUnit.SECONDS);
      assertEquals(-1, (int) s.read(ByteBuffer.allocate(8)).get(20, TimeUnit.SECONDS));
      assertEquals(0, s.bytesRead());
      assertEquals(StreamState.READ_CLOSED, s.state());
      s.write(ByteBuffer.wrap(new byte[] {7})).get(20, TimeUnit.SECONDS);
      s.closeWrite().get(20, TimeUnit.SECONDS);
      ns.fin.get(20, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {7}, ns.firstBytes(), "the acceptor writes no preamble");
      assertEquals(StreamState.CLOSED, s.terminated().get(20, TimeUnit.SECONDS));
    }
    assertEquals(List.of(), warnings);
  }

  /**
   * A peer whose first byte on a stream is not 0x00 speaks another mapping: the stream fails with a
   * {@link ProtocolException} naming the byte, none of its bytes is delivered, the peer gets RESET_STREAM with
   * {@code INTERNAL_ERROR}, a WARNING names the byte, and the connection carries on.
   */
  @Test
  void aFirstByteOtherThanThePreambleFailsTheStream() throws Exception {
    try (NettyClient nc = NettyClient.connect()) {
      NettyQuicPeer netty = nc.netty();
      Connection c = nc.braid();
      NettyQuicPeer.PeerStream bad = netty.openRaw("GET /".getBytes(StandardCharsets.US_ASCII), false);
      MuxedStream s = c.acceptStream().get(20, TimeUnit.SECONDS);
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> s.read(ByteBuffer.allocate(64)).get(20, TimeUnit.SECONDS));
      ProtocolException pe = assertInstanceOf(ProtocolException.class, e.getCause());
      assertTrue(pe.getMessage().contains("0x47"), pe.getMessage());
      assertEquals(StreamState.FAILED, s.terminated().get(20, TimeUnit.SECONDS));
      assertEquals(0, s.bytesRead(), "no byte of the stream is delivered");
      assertEquals(StreamResetException.INTERNAL_ERROR, (long) bad.reset.get(20, TimeUnit.SECONDS),
          "the peer learns of it: RESET_STREAM with INTERNAL_ERROR");
      assertTrue(warnings.stream().anyMatch(w -> w.contains("0x47") && w.contains("preamble")), warnings.toString());

      NettyQuicPeer.PeerStream good = netty.open();
      good.write("still fine".getBytes(StandardCharsets.US_ASCII), false).sync();
      MuxedStream g = c.acceptStream().get(20, TimeUnit.SECONDS);
      assertArrayEquals("still fine".getBytes(StandardCharsets.US_ASCII), QuicInteropTest.readExactly(g, 10));
      assertTrue(c.isOpen());
    }
  }

  /** A Braid listener, a Netty client connected to it, and the Braid end of that connection. */
  private record NettyClient(Transport server, NettyQuicPeer netty, Connection braid) implements AutoCloseable {
    static NettyClient connect() throws Exception {
      Transport server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
      NettyQuicPeer netty = null;
      try {
        Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
        CompletableFuture<Connection> accepted = listener.accept();
        netty = NettyQuicPeer.client(listener.address());
        return new NettyClient(server, netty, accepted.get(20, TimeUnit.SECONDS));
      } catch (Exception | Error e) { // closes what was made, then fails with the cause
        if (netty != null) {
          netty.close();
        }
        server.close();
        throw e;
      }
    }

    @Override
    public void close() throws Exception {
      try {
        netty.close();
      } finally {
        server.close();
      }
    }
  }

  // ---------------------------------------------------------------- a raw kwik client's own frames

  /**
   * A stream that ends (FIN) before its first byte has no preamble: a protocol violation as a wrong first byte is (no
   * opener that follows the mapping sends it: its preamble is queued before openStream() completes).
   */
  @Test
  void aStreamThatEndsBeforeItsPreambleFails() throws Exception {
    try (RawPeer raw = new RawPeer()) {
      raw.send(new StreamFrame(0, 0, new byte[0], true));
      MuxedStream s = raw.braid.acceptStream().get(20, TimeUnit.SECONDS);
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> s.read(ByteBuffer.allocate(64)).get(20, TimeUnit.SECONDS));
      assertInstanceOf(ProtocolException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("before its preamble"), e.getCause().getMessage());
      assertEquals(StreamState.FAILED, s.terminated().get(20, TimeUnit.SECONDS));
      assertTrue(raw.braid.isOpen());
    }
    assertTrue(warnings.stream().anyMatch(w -> w.contains("preamble")), warnings.toString());
  }

  /**
   * The peer resets a stream before its preamble was read (RESET_STREAM with final size 0: nothing sent; 1: the
   * preamble only): an ordinary reset by the peer, with its code; nothing delivered, no protocol violation.
   */
  @ParameterizedTest(name = "final size {0}")
  @ValueSource(ints = {0, 1})
  void aStreamResetBeforeItsPreambleWasReadIsReset(int finalSize) throws Exception {
    try (RawPeer raw = new RawPeer()) {
      // kwik ignores a RESET_STREAM for a stream it has not created: its first STREAM frame goes in the same packet
      raw.sendTogether(new StreamFrame(0, 0, new byte[finalSize], false), new ResetStreamFrame(0, 99, finalSize));
      MuxedStream s = raw.braid.acceptStream().get(20, TimeUnit.SECONDS);
      assertEquals(StreamState.RESET, s.terminated().get(20, TimeUnit.SECONDS));
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> s.read(ByteBuffer.allocate(64)).get(20, TimeUnit.SECONDS));
      StreamResetException r = assertInstanceOf(StreamResetException.class, e.getCause());
      assertEquals(99, r.code());
      assertTrue(r.isRemote());
      assertEquals(0, s.bytesRead());
      assertTrue(raw.braid.isOpen());
    }
    assertEquals(List.of(), warnings);
  }

  /** A Braid listener and a raw kwik client connected to it, which sends frames of its own making. */
  private static final class RawPeer implements AutoCloseable {
    final Transport server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    final QuicConnectionImpl kwik;
    final Connection braid;

    RawPeer() throws Exception {
      try {
        Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
        CompletableFuture<Connection> a = listener.accept();
        URI address = listener.address();
        QuicClientConnection c = QuicClientConnection.newBuilder()
            .host(address.getHost()).port(address.getPort())
            .applicationProtocol(QuicOptions.ALPN.fallback())
            .customTrustManager(CertificatePins.trustOnly(address.getQuery().replace("certhash=", "")))
            .logger(new NullLogger())
            .build();
        c.connect();
        kwik = (QuicConnectionImpl) c;
        braid = a.get(20, TimeUnit.SECONDS); // the server has its 1-RTT keys: our frames are not dropped
      } catch (Exception | Error e) {
        server.close();
        throw e;
      }
    }

    /** Sends {@code frame}, and again whenever kwik declares it lost. */
    void send(QuicFrame frame) {
      kwik.send(frame, lost -> send(frame), true);
    }

    /** Sends the frames in one packet, as far as kwik's sender allows (queued together, flushed once). */
    void sendTogether(QuicFrame first, QuicFrame second) {
      kwik.send(first, lost -> sendTogether(first, second), false);
      kwik.send(second, lost -> { }, true);
    }

    @Override
    public void close() {
      kwik.close();
      server.close();
    }
  }
}
