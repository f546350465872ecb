package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.BraidFuture;
import dev.braid.transport.tcp.internal.TcpConnection;
import dev.braid.transport.tcp.internal.TcpTransport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** End-to-end behaviour of the TCP transport between two Braid peers (plain and TLS). */
class TcpTransportTest {
  private static final long T = 30;
  private Transport a;
  private Transport b;
  private Listener listener;
  private Connection dialer;
  private Connection accepted;

  /**
   * Echoes {@code s} on a thread of its own until our FIN, then sends its FIN. Its outcome goes to {@code echoed}
   * (the byte count, or what failed, for the test to assert on); on a failure it also resets {@code s} with
   * {@code code}, so that our side fails at once instead of waiting for its bound.
   */
  static void echo(MuxedStream s, long code, CompletableFuture<Long> echoed) {
    Bounded.call("echo-" + s.id(), () -> {
      try (InputStream in = s.inputStream(); OutputStream out = s.outputStream()) {
        return in.transferTo(out);
      }
    }).whenComplete((n, e) -> {
      if (e != null) {
        s.reset(code);
        echoed.completeExceptionally(e);
      } else {
        echoed.complete(n);
      }
    });
  }

  void connect(TransportOptions options) throws Exception {
    TcpTransportProvider p = new TcpTransportProvider();
    a = p.create(options);
    b = p.create(options);
    listener = b.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = listener.accept();
    dialer = a.dial(listener.address()).get(T, TimeUnit.SECONDS);
    accepted = acc.get(T, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void echoesAndHalfCloses(boolean tls) throws Exception {
    connect(TransportOptions.builder().property(TcpOptions.TLS.name(), Boolean.toString(tls)).build());
    if (tls) {
      assertTrue(listener.address().toString().startsWith("tcp+tls://127.0.0.1:"), listener.address().toString());
      assertTrue(listener.address().getQuery().startsWith("certhash="));
    } else {
      assertFalse(listener.address().toString().endsWith(":0"));
    }
    CompletableFuture<Long> echoed = new CompletableFuture<>();
    accepted.setStreamHandler(s -> echo(s, 99, echoed));
    java.util.List<StreamState> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    MuxedStream s = dialer.openStream((st, from, to) -> seen.add(to)).get(T, TimeUnit.SECONDS);
    assertEquals(StreamState.OPEN, s.state());
    byte[] payload = new byte[3 * 1024 * 1024 + 17];
    new Random(1).nextBytes(payload);
    CompletableFuture<byte[]> reader = Bounded.call("reader", () -> s.inputStream().readAllBytes());
    Bounded.run("writer", () -> s.outputStream().write(payload)).get(T, TimeUnit.SECONDS);
    s.closeWrite().get(T, TimeUnit.SECONDS);
    assertEquals(payload.length, echoed.get(T, TimeUnit.SECONDS), "the echo side echoed every byte, then our FIN");
    // the echo may already have ended too (CLOSED) by the time we look: check the path, not a snapshot
    assertArrayEquals(payload, reader.get(T, TimeUnit.SECONDS));
    assertEquals(StreamState.CLOSED, s.terminated().get(T, TimeUnit.SECONDS));
    assertEquals(java.util.List.of(StreamState.WRITE_CLOSED, StreamState.CLOSED), seen,
        "half-closed first (our FIN), then closed (the echo's FIN)");
  }

  @Test
  void resetCarriesTheCode() throws Exception {
    connect(TransportOptions.DEFAULTS);
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    MuxedStream r = accepted.acceptStream().get(T, TimeUnit.SECONDS);
    r.reset(4242);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> s.read(ByteBuffer.allocate(10)).get(T, TimeUnit.SECONDS));
    // The byte may be read first; keep reading until the reset shows.
    StreamResetException reset = assertInstanceOf(StreamResetException.class, e.getCause());
    assertEquals(4242, reset.code());
    assertTrue(reset.isRemote());
    assertEquals(StreamState.RESET, s.terminated().get(T, TimeUnit.SECONDS));
  }

  @Test
  void aSlowReaderBoundsTheWriter() throws Exception {
    connect(TransportOptions.DEFAULTS);
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    MuxedStream r = accepted.acceptStream().get(T, TimeUnit.SECONDS);
    int window = accepted.options().receiveWindow(); // 256 KiB, what r grants
    // Nobody reads r: the writer must stall once the window is used up.
    CompletableFuture<Void> big = s.write(ByteBuffer.allocate(2 * 1024 * 1024));
    InputStream in = r.inputStream();
    Bounded.until(T, () -> Bounded.available(in) >= window,
        () -> "the reader holds " + Bounded.available(in) + " of the " + window + "-byte window; the big write " + big);
    // The whole window (the first byte and the head of the big write) arrived; the 2 MiB cannot have gone out.
    assertEquals(window, Bounded.available(in), "the reader received no byte beyond the window");
    assertEquals(1, s.bytesWritten(), "the 2 MiB write is not accepted yet");
    assertFalse(big.isDone(), "a 2 MiB write completed although the peer granted only " + window + " bytes: " + big);
    assertTrue(dialer.isOpen() && accepted.isOpen(), "the writer kept within the window");
    ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
    long total = 0;
    while (total < 2 * 1024 * 1024 + 1) {
      sink.clear();
      int n = r.read(sink).get(T, TimeUnit.SECONDS);
      assertTrue(n > 0, "read " + n + " after " + total + " bytes");
      total += n;
    }
    big.get(T, TimeUnit.SECONDS);
    assertEquals(2 * 1024 * 1024 + 1, s.bytesWritten());
  }

  @Test
  void sixtyFourMegabytesBothWaysWithSha256() throws Exception {
    connect(TransportOptions.DEFAULTS);
    CompletableFuture<Long> echoed = new CompletableFuture<>();
    accepted.setStreamHandler(s -> echo(s, 1, echoed));
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    int size = 64 * 1024 * 1024;
    CompletableFuture<byte[]> got = Bounded.call("reader", () -> {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[65536];
      InputStream in = s.inputStream();
      long n = 0;
      for (int k; (k = in.read(buf)) >= 0; ) {
        d.update(buf, 0, k);
        n += k;
      }
      assertEquals(size, n);
      return d.digest();
    });
    CompletableFuture<byte[]> sent = Bounded.call("writer", () -> {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      Random rnd = new Random(7);
      byte[] chunk = new byte[256 * 1024];
      OutputStream out = s.outputStream();
      for (int i = 0; i < size / chunk.length; i++) {
        rnd.nextBytes(chunk);
        d.update(chunk);
        out.write(chunk);
      }
      out.close();
      return d.digest();
    });
    byte[] sentDigest = sent.get(120, TimeUnit.SECONDS);
    assertEquals(size, echoed.get(120, TimeUnit.SECONDS), "the echo side echoed every byte, then our FIN");
    assertArrayEquals(sentDigest, got.get(120, TimeUnit.SECONDS));
  }

  @Test
  void closeEndsStreamsOnBothSides() throws Exception {
    connect(TransportOptions.DEFAULTS);
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    MuxedStream r = accepted.acceptStream().get(T, TimeUnit.SECONDS);
    dialer.close();
    dialer.closeFuture().get(T, TimeUnit.SECONDS);
    accepted.closeFuture().get(T, TimeUnit.SECONDS);
    assertEquals(StreamState.FAILED, r.terminated().get(T, TimeUnit.SECONDS));
    assertEquals(StreamState.FAILED, s.terminated().get(T, TimeUnit.SECONDS));
    assertTrue(dialer.streams().isEmpty());
    assertTrue(accepted.streams().isEmpty());
  }

  @Test
  void closingTheConnectionFirstFinishesStreamsClosedBefore() throws Exception {
    connect(TransportOptions.DEFAULTS);
    byte[] payload = new byte[2 * 1024 * 1024]; // 8 windows: most of it is still queued when close() is called
    new Random(5).nextBytes(payload);
    CompletableFuture<byte[]> received = new CompletableFuture<>();
    accepted.setStreamHandler(r -> new Thread(() -> {
      try {
        r.closeWrite(); // so the stream ends CLOSED (terminal) and keeps what it buffered
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[16 * 1024];
        for (int k, reads = 0; (k = r.inputStream().read(buf)) >= 0; reads++) {
          got.write(buf, 0, k);
          if (reads % 4 == 0) {
            Thread.sleep(1); // a slow reader (the writer depends on window updates), well within the 5 s flush bound
          }
        }
        received.complete(got.toByteArray());
      } catch (Exception e) {
        received.completeExceptionally(e);
      }
    }).start());
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    CompletableFuture<Void> written = s.write(ByteBuffer.wrap(payload));
    s.close();
    dialer.close();
    assertArrayEquals(payload, received.get(T, TimeUnit.SECONDS), "every byte written before close() arrived");
    written.get(T, TimeUnit.SECONDS);
    dialer.closeFuture().get(T, TimeUnit.SECONDS);
    accepted.closeFuture().get(T, TimeUnit.SECONDS);
  }

  @Test
  void killFailsBothSides() throws Exception {
    connect(TransportOptions.DEFAULTS);
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    MuxedStream r = accepted.acceptStream().get(T, TimeUnit.SECONDS);
    ((TcpConnection) dialer).killSocket();
    ExecutionException e = assertThrows(ExecutionException.class, () -> accepted.closeFuture().get(T, TimeUnit.SECONDS));
    assertInstanceOf(ConnectionFailedException.class, e.getCause());
    assertFalse(e.getCause() instanceof ConnectionClosedException);
    assertEquals(StreamState.FAILED, r.terminated().get(T, TimeUnit.SECONDS));
    assertEquals(StreamState.FAILED, s.terminated().get(T, TimeUnit.SECONDS));
  }

  @Test
  void listensAndDialsOnIpv6Loopback() throws Exception {
    boolean v6;
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.bind(new java.net.InetSocketAddress("::1", 0));
      v6 = true;
    } catch (java.io.IOException e) {
      v6 = false;
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(v6, "this machine has no IPv6 loopback (::1)");
    TcpTransportProvider p = new TcpTransportProvider();
    a = p.create(TransportOptions.DEFAULTS);
    b = p.create(TransportOptions.DEFAULTS);
    listener = b.listen(URI.create("tcp://[::1]:0"));
    assertTrue(listener.address().toString().startsWith("tcp://[0:0:0:0:0:0:0:1]:"), listener.address().toString());
    CompletableFuture<Connection> acc = listener.accept();
    Connection c = a.dial(listener.address()).get(T, TimeUnit.SECONDS);
    MuxedStream s = c.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {5})).get(T, TimeUnit.SECONDS);
    ByteBuffer one = ByteBuffer.allocate(1);
    assertEquals(1, acc.get(T, TimeUnit.SECONDS).acceptStream().get(T, TimeUnit.SECONDS).read(one).get(T, TimeUnit.SECONDS));
    assertEquals(5, one.get(0));
  }

  @Test
  void picksEpollOnLinuxX86AndNioOnRequest() throws Exception {
    TcpTransportProvider p = new TcpTransportProvider();
    a = p.create(TransportOptions.DEFAULTS);
    b = p.create(TransportOptions.builder().property(TcpOptions.IO.name(), "nio").build());
    boolean linuxX64 = System.getProperty("os.name").startsWith("Linux")
        && System.getProperty("os.arch").matches("amd64|x86_64");
    assertEquals(linuxX64 ? "epoll" : "nio", ((TcpTransport) a).ioName());
    assertEquals("nio", ((TcpTransport) b).ioName());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.create(TransportOptions.builder().property(TcpOptions.IO.name(), "kqueue").build()));
    assertEquals("option tcp.io must be one of auto, epoll, nio, was \"kqueue\"", e.getMessage());
  }

  @Test
  void dialHandsOutBraidFuturesWhoseContinuationsMayBlockOnTheConnection() throws Exception {
    TcpTransportProvider p = new TcpTransportProvider();
    a = p.create(TransportOptions.DEFAULTS);
    b = p.create(TransportOptions.DEFAULTS);
    listener = b.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = listener.accept();
    CompletableFuture<Connection> dialed = a.dial(listener.address());
    assertInstanceOf(BraidFuture.class, dialed);
    // On the event loop, this continuation would wait for that very loop to close the channel.
    CompletableFuture<String> where = dialed.thenApply(c -> {
      c.close();
      c.closeFuture().join();
      return Thread.currentThread().getName();
    });
    assertFalse(where.get(T, TimeUnit.SECONDS).startsWith(TcpTransport.THREAD_PREFIX), where.get());
    acc.get(T, TimeUnit.SECONDS);
    // Failures are BraidFutures too: a refused connection, and a dial after close.
    int port;
    try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    CompletableFuture<Connection> refused = a.dial(URI.create("tcp://127.0.0.1:" + port));
    assertInstanceOf(BraidFuture.class, refused);
    Bounded.failsWith(ConnectionFailedException.class, refused, T, "a dial to a closed port");
    a.close();
    CompletableFuture<Connection> late = a.dial(listener.address());
    assertInstanceOf(BraidFuture.class, late);
    Bounded.failsWith(ConnectionFailedException.class, late, T, "a dial after close");
  }

  @Test
  void declaresItsCapabilities() {
    assertEquals(java.util.Set.of(Capability.RESET_CODES), new TcpTransportProvider().capabilities());
  }
}
