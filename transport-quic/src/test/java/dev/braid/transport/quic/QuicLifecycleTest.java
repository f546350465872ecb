package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Transport close frees every thread; a peer that vanishes ends in a FAILED connection, never a hang. */
class QuicLifecycleTest {

  @Test
  void transportCloseFreesItsThreadsAndKwiksThreads() throws Exception {
    Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
    Transport server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Transport client = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
    CompletableFuture<Connection> a = listener.accept();
    Connection c = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
    Connection accepted = a.get(20, TimeUnit.SECONDS);
    for (int i = 0; i < 20; i++) {
      MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[1000])).get(20, TimeUnit.SECONDS);
      MuxedStream r = accepted.acceptStream().get(20, TimeUnit.SECONDS);
      QuicInteropTest.readExactly(r, 1000);
    }
    client.close();
    server.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<String> left;
    do {
      left = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> !before.contains(t) && t.isAlive())
          .filter(t -> !t.getName().startsWith("braid-events-")) // the API's shared listener pool idles out by itself
          .map(Thread::getName).sorted().collect(Collectors.toList());
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    assertEquals(List.of(), left, "threads still alive 30 s after Transport.close()");
  }

  @Test
  void vanishedPeerFailsEveryStreamWithAClearCause() throws Exception {
    TransportOptions options = TransportOptions.builder().idleTimeout(Duration.ofSeconds(2)).build();
    Transport braid = new QuicTransportProvider().create(options);
    NettyQuicPeer netty = NettyQuicPeer.server();
    try {
      Connection c = braid.dial(netty.braidAddress()).get(20, TimeUnit.SECONDS);
      MuxedStream s = c.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {1})).get(20, TimeUnit.SECONDS);
      netty.accept();
      CompletableFuture<Integer> pendingRead = s.read(ByteBuffer.allocate(10));
      netty.close(); // the peer's socket is gone: no CONNECTION_CLOSE reaches us
      assertEquals(StreamState.FAILED, s.terminated().get(60, TimeUnit.SECONDS));
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> pendingRead.get(5, TimeUnit.SECONDS));
      // kwik reports the silence as IdleTimeout, or as ConnectionLost when our last packets went unanswered: both are
      // the idle timeout, ConnectionTimedOutException
      ConnectionTimedOutException f = assertInstanceOf(ConnectionTimedOutException.class, e.getCause());
      String why = f.getMessage();
      assertTrue(why.contains("idle timeout"), why);
      assertTrue(!c.isOpen());
    } finally {
      braid.close();
    }
  }

  /** Two Braid ends through a UDP {@link FaultProxy}; both transports and the proxy close with it. */
  private static final class ProxiedPair implements AutoCloseable {
    final Transport server;
    final Transport client;
    final FaultProxy proxy;
    final Connection dialer;
    final Connection accepted;

    ProxiedPair(TransportOptions options) throws Exception {
      server = new QuicTransportProvider().create(options);
      client = new QuicTransportProvider().create(options);
      Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
      proxy = FaultProxy.udp(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 0, 0, 1);
      CompletableFuture<Connection> a = listener.accept();
      dialer = client.dial(proxy.rewrite(listener.address())).get(20, TimeUnit.SECONDS);
      accepted = a.get(20, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      client.close();
      server.close();
      proxy.close();
    }
  }

  /** What {@code c} ended with (null: a graceful close), waiting at most 30 s. */
  private static Throwable endOf(Connection c) throws Exception {
    return c.closeFuture().handle((v, t) -> t instanceof java.util.concurrent.CompletionException ? t.getCause() : t)
        .get(30, TimeUnit.SECONDS);
  }

  /**
   * kwik honours a 2 s idle timeout: when the path goes silent both ends end on their own with
   * {@link ConnectionTimedOutException}, no sooner than the timeout and within about a second more (kwik's idle timer
   * checks once a second), keep-alive or not (a PING nobody answers keeps nothing alive).
   */
  @Test
  void aSilentPathEndsBothEndsWithTheIdleTimeout() throws Exception {
    TransportOptions options = TransportOptions.builder().idleTimeout(Duration.ofSeconds(2))
        .keepAliveInterval(Duration.ofMillis(500)).build();
    try (ProxiedPair p = new ProxiedPair(options)) {
      MuxedStream s = p.dialer.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {1})).get(20, TimeUnit.SECONDS);
      MuxedStream r = p.accepted.acceptStream().get(20, TimeUnit.SECONDS);
      QuicInteropTest.readExactly(r, 1);
      long start = System.nanoTime();
      p.proxy.blackhole();
      for (Connection c : List.of(p.dialer, p.accepted)) {
        Throwable t = endOf(c);
        long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("QUIC idle timeout 2000 ms: " + (c.isDialer() ? "dialer" : "listener") + " ended " + after
            + " ms after the path went silent: " + t);
        assertInstanceOf(ConnectionTimedOutException.class, t, c + " ended with " + t); // when: printed, not bounded
      }
      assertEquals(StreamState.FAILED, s.terminated().get(5, TimeUnit.SECONDS));
      assertEquals(StreamState.FAILED, r.terminated().get(5, TimeUnit.SECONDS));
      assertTrue(p.proxy.swallowed() > 0, "the ends went on sending (keep-alive PINGs) into the silence");
    }
  }

  /**
   * The keep-alive: with a 500 ms interval an idle connection outlives a 2 s idle timeout (its PINGs and their ACKs
   * cross the proxy every interval or so).
   */
  @Test
  void keepAlivePingsKeepAnIdleConnectionOpen() throws Exception {
    TransportOptions alive = TransportOptions.builder().idleTimeout(Duration.ofSeconds(2))
        .keepAliveInterval(Duration.ofMillis(500)).build();
    try (ProxiedPair p = new ProxiedPair(alive)) {
      Thread.sleep(500);
      long before = p.proxy.forwarded();
      Thread.sleep(5000);
      long datagrams = p.proxy.forwarded() - before;
      System.out.println("QUIC keep-alive 500 ms: " + datagrams + " datagrams in 5 s on an idle connection");
      assertTrue(p.dialer.isOpen() && p.accepted.isOpen(), "an idle connection with keep-alive stays open past its "
          + "idle timeout");
      // A PING every 500 ms from one end, and the answers: usually 3 datagrams per interval (PING; kwik's ACK, to which
      // kwik adds a PING of its own, RFC 9000 §13.2.4; the ACK of that). No upper bound: at kwik's 0 ms loopback RTT
      // that heuristic now and then turns into an ACK+PING exchange every few ms for a while (README, pitfalls).
      assertTrue(datagrams >= 2, datagrams + " datagrams in 5 s of keep-alive at 500 ms: the PINGs flow");
      MuxedStream s = p.dialer.openStream().get(20, TimeUnit.SECONDS);
      s.write(ByteBuffer.wrap(new byte[] {7})).get(20, TimeUnit.SECONDS);
      MuxedStream r = p.accepted.acceptStream().get(20, TimeUnit.SECONDS);
      assertEquals(7, QuicInteropTest.readExactly(r, 1)[0]);
    }
    // Not checked here: that the same idle connection without Braid's keep-alive times out. kwik itself keeps
    // sending between two live ends now and then (it adds a PING to ACK-only packets, RFC 9000 §13.2.4, and at a 0 ms
    // loopback RTT two kwik ends can bounce ACK+PING packets for a long time: README, pitfalls), so it may stay open;
    // a CI rehearsal saw it open after 30 s. A silent path always times out: aSilentPathEndsBothEndsWithTheIdleTimeout.
  }
}
