package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Braid's graceful close never answers the peer with a TCP reset. A raw-socket yamux peer keeps sending pings
 * while Braid closes: it must read Braid's go-away and then a clean end of stream, and its writes must keep
 * succeeding until it closes its own side. A socket closed outright while such bytes arrive makes the kernel
 * send RST (the js-yamux peer reported {@code ECONNRESET} after Braid's close), and a RST may destroy data
 * the peer had not read yet.
 */
class TcpGracefulCloseTest {
  private static final long T = 30;
  private Transport server;
  private Listener listener;

  @BeforeEach
  void setUp() throws Exception {
    server = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    listener = server.listen(URI.create("tcp://127.0.0.1:0"));
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  /** Connects the raw peer {@code s} to Braid's listener; returns Braid's side of the connection. */
  private Connection connect(Socket s) throws Exception {
    CompletableFuture<Connection> accepted = listener.accept();
    s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
    s.setSoTimeout(20_000);
    return accepted.get(T, TimeUnit.SECONDS);
  }

  private static byte[] pingSyn(int opaque) {
    return ByteBuffer.allocate(12).put((byte) 0).put((byte) 2).putShort((short) 1).putInt(0).putInt(opaque).array();
  }

  /** Frame types Braid sent until its end of stream; throws if the socket failed (a reset) instead. */
  private static List<Integer> readUntilEnd(Socket s) throws IOException {
    List<Integer> types = new ArrayList<>();
    DataInputStream in = new DataInputStream(s.getInputStream());
    while (true) {
      int version;
      try {
        version = in.readUnsignedByte();
      } catch (EOFException end) {
        return types;
      }
      assertEquals(0, version);
      int type = in.readUnsignedByte();
      in.readUnsignedShort();
      in.readInt();
      long length = Integer.toUnsignedLong(in.readInt());
      if (type == 0) {
        in.skipNBytes(length);
      }
      types.add(type);
    }
  }

  @Test
  void aPeerStillSendingSeesGoAwayAndAnEndOfStreamNeverAReset() throws Exception {
    try (Socket s = new Socket()) {
      Connection braid = connect(s);
      OutputStream out = s.getOutputStream();
      AtomicReference<IOException> writeFailure = new AtomicReference<>();
      CountDownLatch stop = new CountDownLatch(1);
      CountDownLatch pinging = new CountDownLatch(20);
      java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
      Thread pinger = new Thread(() -> {
        try {
          for (int i = 1; !stop.await(1, TimeUnit.MILLISECONDS); i++) {
            out.write(pingSyn(i));
            out.flush();
            writes.incrementAndGet();
            pinging.countDown();
          }
        } catch (IOException e) {
          writeFailure.set(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "raw-yamux-pinger");
      pinger.start();
      try {
        assertTrue(pinging.await(T, TimeUnit.SECONDS));
        braid.close();
        List<Integer> types = readUntilEnd(s); // a reset here throws SocketException: Connection reset
        assertTrue(types.contains(3), "Braid sent its go-away before its end of stream: " + types);
        assertEquals(3, types.get(types.size() - 1), "nothing after the go-away: " + types);
        // Braid has half-closed and still reads: 20 more pings are discarded, not answered by RST (well within
        // the linger; a socket closed outright fails the first write that follows)
        int after = writes.get() + 20;
        Bounded.until(T, () -> writes.get() >= after || writeFailure.get() != null,
            () -> writes.get() + " of " + after + " pings written, no failure: the pinger is stuck");
        assertNull(writeFailure.get(), "the peer's writes after Braid's close failed: " + writeFailure.get());
      } finally {
        stop.countDown();
        pinger.join(10_000);
      }
      assertFalse(pinger.isAlive(), "the pinger did not stop within 10 s (stuck in a write)");
      assertNull(writeFailure.get(), "the peer's writes after Braid's close failed: " + writeFailure.get());
      s.shutdownOutput(); // the peer closes its side: Braid's connection ends, gracefully
      braid.closeFuture().get(T, TimeUnit.SECONDS);
      assertFalse(braid.isOpen());
    }
  }

  @Test
  void aPeerThatNeverClosesIsClosedAfterTheLinger() throws Exception {
    try (Socket s = new Socket()) {
      Connection braid = connect(s);
      braid.close();
      List<Integer> types = readUntilEnd(s);
      assertEquals(List.of(3), types, "a go-away, then the end of stream");
      // the peer keeps its side open and silent: Braid closes the socket anyway, and the close is graceful
      braid.closeFuture().get(T, TimeUnit.SECONDS);
      assertFalse(braid.isOpen());
    }
  }

  @Test
  void aPeerThatStopsReadingCannotHoldAClosingConnectionOpen() throws Exception {
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(64 * 1024);
      Connection braid = connect(s);
      dev.braid.MuxedStream st = braid.openStream().get(T, TimeUnit.SECONDS);
      // the peer grants 64 MiB of window on that stream (SYN|ACK with a window update), then never reads
      OutputStream out = s.getOutputStream();
      out.write(ByteBuffer.allocate(12).put((byte) 0).put((byte) 1).putShort((short) 2).putInt((int) st.id())
          .putInt(64 << 20).array());
      out.flush();
      byte[] chunk = new byte[256 * 1024];
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        writes.add(st.write(ByteBuffer.wrap(chunk))); // 4 MiB: more than the sockets and Netty's buffer hold
      }
      st.close(); // CLOSED: the data and the FIN are still to go out
      braid.close();
      // the go-away can never be written: the flush timeout and the backstop still end the connection
      // ended, either way (the close could not be flushed); a failure, if any, is the connection's
      Throwable closed = braid.closeFuture().handle((v, e) -> e).get(T, TimeUnit.SECONDS);
      if (closed != null) {
        assertInstanceOf(ConnectionFailedException.class, closed, "the connection ended for another reason");
      }
      assertFalse(braid.isOpen());
      for (CompletableFuture<Void> w : writes) {
        Throwable failed = w.handle((v, e) -> e).get(T, TimeUnit.SECONDS); // each write settled, one way or the other
        if (failed != null) {
          assertInstanceOf(ConnectionFailedException.class, failed, "a write failed for another reason");
        }
      }
    }
  }
}
