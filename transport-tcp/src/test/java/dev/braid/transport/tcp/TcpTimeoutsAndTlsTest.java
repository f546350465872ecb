package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.tcp.internal.TcpConnection;
import dev.braid.transport.tcp.internal.TcpTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Keep-alive, idle timeout, the outbound backlog bound, TLS pinning, and thread cleanup. */
class TcpTimeoutsAndTlsTest {
  private static final long T = 30;
  private Transport a;
  private Transport b;

  @AfterEach
  void tearDown() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
  }

  @Test
  void aSilentPeerHitsTheIdleTimeout() throws Exception {
    b = new TcpTransportProvider().create(TransportOptions.builder().idleTimeout(Duration.ofMillis(500)).build());
    Listener l = b.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = l.accept();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", l.address().getPort()));
      Connection c = acc.get(T, TimeUnit.SECONDS);
      ExecutionException e = assertThrows(ExecutionException.class, () -> c.closeFuture().get(T, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("idle timeout"), e.getCause().getMessage());
    }
  }

  @Test
  void keepAlivePingsKeepAnIdleConnectionOpen() throws Exception {
    TransportOptions o = TransportOptions.builder().idleTimeout(Duration.ofSeconds(5))
        .keepAliveInterval(Duration.ofMillis(100)).build();
    a = new TcpTransportProvider().create(o);
    b = new TcpTransportProvider().create(o);
    Listener l = b.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = l.accept();
    Connection d = a.dial(l.address()).get(T, TimeUnit.SECONDS);
    Connection c = acc.get(T, TimeUnit.SECONDS);
    // Wait for 100 answered pings (at least two idle timeouts' worth) with no application traffic.
    TcpConnection tcp = (TcpConnection) d;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (tcp.keepAliveAnswers() < 100 && d.isOpen() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(tcp.keepAliveAnswers() >= 100, tcp.keepAliveAnswers() + " pings answered");
    assertTrue(d.isOpen() && c.isOpen(), "keep-alive pings (answered) count as traffic");
    MuxedStream s = d.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    assertEquals(1, c.acceptStream().get(T, TimeUnit.SECONDS).read(ByteBuffer.allocate(1)).get(T, TimeUnit.SECONDS));
  }

  @Test
  void aPeerThatFloodsPingsWithoutReadingIsCutOff() throws Exception {
    b = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    Listener l = b.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = l.accept();
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(64 * 1024);
      s.connect(new InetSocketAddress("127.0.0.1", l.address().getPort()));
      Connection c = acc.get(T, TimeUnit.SECONDS);
      ByteBuffer pings = ByteBuffer.allocate(12 * 10_000);
      for (int i = 0; i < 10_000; i++) {
        pings.put((byte) 0).put((byte) 2).putShort((short) 1).putInt(0).putInt(i);
      }
      OutputStream out = s.getOutputStream();
      // A Braid that stopped reading without cutting us off would block a write forever: the watchdog bounds it.
      java.util.concurrent.CountDownLatch flooded = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.atomic.AtomicBoolean stuck = new java.util.concurrent.atomic.AtomicBoolean();
      Bounded.run("flood-watchdog", () -> {
        if (!flooded.await(T, TimeUnit.SECONDS)) {
          stuck.set(true);
          s.close();
        }
      });
      try {
        for (int round = 0; round < 1000 && c.isOpen(); round++) { // up to 120 MB of pings, never reading
          out.write(pings.array());
        }
      } catch (IOException e) {
        // Braid closed the connection under us (a reset): expected; the cause Braid gives is asserted below
      } finally {
        flooded.countDown();
      }
      assertTrue(!stuck.get(), "Braid neither read the pings nor cut the flooder off within " + T + " s");
      ExecutionException e = assertThrows(ExecutionException.class, () -> c.closeFuture().get(T, TimeUnit.SECONDS));
      ProtocolException p = assertInstanceOf(ProtocolException.class, e.getCause());
      assertTrue(p.getMessage().contains("does not read"), p.getMessage());
    }
  }

  @Test
  void aWrongCertificateHashIsRejected() throws Exception {
    a = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    b = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    Listener l = b.listen(URI.create("tcp+tls://127.0.0.1:0"));
    String query = l.address().getQuery();
    assertTrue(query.matches("certhash=[0-9a-f]{64}"), query);
    URI wrong = URI.create("tcp+tls://127.0.0.1:" + l.address().getPort() + "?certhash=" + "ab".repeat(32));
    ExecutionException e = assertThrows(ExecutionException.class, () -> a.dial(wrong).get(T, TimeUnit.SECONDS));
    assertInstanceOf(ConnectionFailedException.class, e.getCause());
    // The right hash works on the same listener.
    CompletableFuture<Connection> acc = l.accept();
    Connection ok = a.dial(l.address()).get(T, TimeUnit.SECONDS);
    assertEquals("tcp+tls", ok.remoteAddress().getScheme());
    acc.get(T, TimeUnit.SECONDS);
  }

  @Test
  void aFloodOfUnfinishedTlsHandshakesIsCapped() throws Exception {
    // A long handshake timeout keeps the silent connections "in setup" for the whole test.
    b = new TcpTransportProvider().create(TransportOptions.builder().connectTimeout(Duration.ofSeconds(90)).build());
    Listener l = b.listen(URI.create("tcp+tls://127.0.0.1:0"));
    int n = 530;
    List<java.nio.channels.SocketChannel> silent = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) { // never start the handshake
        java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
            new InetSocketAddress("127.0.0.1", l.address().getPort()));
        ch.configureBlocking(false);
        silent.add(ch);
      }
      int closed = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      ByteBuffer probe = ByteBuffer.allocate(1);
      while (System.nanoTime() < deadline) {
        closed = 0;
        for (java.nio.channels.SocketChannel ch : silent) {
          probe.clear();
          try {
            if (ch.read(probe) < 0) {
              closed++;
            }
          } catch (IOException e) {
            closed++;
          }
        }
        if (closed >= n - 512) {
          break;
        }
        Thread.sleep(50);
      }
      assertEquals(n - 512, closed, "exactly the connections beyond the cap of 512 in setup were closed");
    } finally {
      for (java.nio.channels.SocketChannel ch : silent) {
        ch.close();
      }
    }
  }

  @Test
  void plainTcpToATlsListenerFailsCleanly() throws Exception {
    a = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    b = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    Listener l = b.listen(URI.create("tcp+tls://127.0.0.1:0"));
    Connection c = a.dial(URI.create("tcp://127.0.0.1:" + l.address().getPort())).get(T, TimeUnit.SECONDS);
    // The TLS side rejects the yamux bytes (or times out the handshake): the plain side's connection ends.
    c.openStream().thenCompose(s -> s.write(ByteBuffer.wrap(new byte[] {1})));
    ExecutionException e = assertThrows(ExecutionException.class, () -> c.closeFuture().get(T, TimeUnit.SECONDS));
    assertInstanceOf(ConnectionFailedException.class, e.getCause());
  }

  @Test
  void closingTheTransportStopsItsThreads() throws Exception {
    long before = countThreads(); // other tests' transports are closed (and joined) already
    a = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    b = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    Listener l = b.listen(URI.create("tcp://127.0.0.1:0"));
    a.dial(l.address()).get(T, TimeUnit.SECONDS);
    assertTrue(countThreads() > before);
    a.close();
    b.close();
    assertTrue(countThreads() <= before, "no " + TcpTransport.THREAD_PREFIX + " thread survives close()");
  }

  @Test
  void dialingNothingFails() throws Exception {
    a = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    int port;
    try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> a.dial(URI.create("tcp://127.0.0.1:" + port)).get(T, TimeUnit.SECONDS));
    assertInstanceOf(ConnectionFailedException.class, e.getCause());
    assertThrows(IllegalArgumentException.class, () -> a.dial(URI.create("quic://127.0.0.1:1")));
    assertThrows(IllegalArgumentException.class, () -> a.dial(URI.create("tcp://127.0.0.1:1?certhash=zz")));
  }

  private static long countThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith(TcpTransport.THREAD_PREFIX)).count();
  }
}
