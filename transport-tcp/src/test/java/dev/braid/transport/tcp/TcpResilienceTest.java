package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.tcp.internal.TcpConnection;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Faults beyond the kit's F rules: reset codes through a reset storm, a kill mid-transfer, a stopped reader held at exactly one window. */
class TcpResilienceTest {
  private static final long T = 60;
  private Transport a;
  private Transport b;
  private Connection dialer;
  private Connection acceptor;

  /** The options of both transports; the stress run raises the stream limit above its 10,000-stream storm. */
  TransportOptions options() {
    return TransportOptions.DEFAULTS;
  }

  @BeforeEach
  void connectPair() throws Exception {
    a = new TcpTransportProvider().create(options());
    b = new TcpTransportProvider().create(options());
    Listener l = b.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = l.accept();
    dialer = a.dial(l.address()).get(T, TimeUnit.SECONDS);
    acceptor = acc.get(T, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() {
    a.close();
    b.close();
  }

  @Test
  void resetStormOnAThousandStreams() throws Exception {
    resetStorm(1000);
  }

  void resetStorm(int n) throws Exception {
    acceptor.setStreamHandler(s -> {
      if (s.id() < 2L * n) {
        s.reset(s.id());
      }
    });
    List<MuxedStream> streams = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
      s.write(ByteBuffer.allocate(1024));
      streams.add(s);
    }
    for (MuxedStream s : streams) {
      assertEquals(StreamState.RESET, s.terminated().get(T, TimeUnit.SECONDS));
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> s.read(ByteBuffer.allocate(1)).get(T, TimeUnit.SECONDS));
      StreamResetException r = assertInstanceOf(StreamResetException.class, e.getCause());
      assertEquals(s.id(), r.code());
    }
    assertTrue(dialer.isOpen() && acceptor.isOpen());
    assertTrue(dialer.streams().isEmpty());
    MuxedStream after = dialer.openStream().get(T, TimeUnit.SECONDS); // id 2n+1: not reset
    after.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    after.closeWrite().get(T, TimeUnit.SECONDS);
    assertEquals(StreamState.WRITE_CLOSED, after.state());
  }

  @Test
  void killMidTransferEndsEveryStream() throws Exception {
    int n = 64;
    // Each inbound stream's reader, with its outcome (it can only end by failing: nobody sends a FIN).
    Map<MuxedStream, CompletableFuture<Long>> readers = new ConcurrentHashMap<>();
    acceptor.setStreamHandler(s -> readers.put(s,
        Bounded.call("reader-" + s.id(), () -> s.inputStream().transferTo(OutputStream.nullOutputStream()))));
    List<MuxedStream> streams = new ArrayList<>();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
      streams.add(s);
      byte[] chunk = new byte[64 * 1024];
      writers.add(Bounded.run("writer-" + s.id(), () -> {
        for (int k = 0; k < 1024; k++) { // 64 MiB: far more than goes out before the kill
          s.outputStream().write(chunk);
        }
      }));
    }
    // Mid-transfer: every stream has written, and its reader on the other side has read, some bytes.
    Bounded.until(T, () -> readers.size() == n
            && streams.stream().allMatch(s -> s.bytesWritten() > 0)
            && readers.keySet().stream().allMatch(r -> r.bytesRead() > 0),
        () -> readers.size() + " of " + n + " streams accepted; " + streams.stream().filter(s -> s.bytesWritten() > 0)
            .count() + " have written and " + readers.keySet().stream().filter(r -> r.bytesRead() > 0).count()
            + " have read bytes");
    for (int i = 0; i < n; i++) {
      assertFalse(writers.get(i).isDone(), "writer " + i + " ended before the kill: " + writers.get(i));
    }
    readers.forEach((r, f) -> assertFalse(f.isDone(), "reader of stream " + r.id() + " ended before the kill: " + f));
    ((TcpConnection) dialer).killSocket();
    for (int i = 0; i < n; i++) {
      // The writer blocked in the blocking view is released with the connection's failure, nothing else.
      ConnectionFailedException e = Bounded.failsWith(ConnectionFailedException.class, writers.get(i), T,
          "writer " + i + " after the kill");
      assertFalse(e instanceof ConnectionClosedException, "a kill is not a graceful close: " + e);
      assertEquals(StreamState.FAILED, streams.get(i).terminated().get(T, TimeUnit.SECONDS));
    }
    for (Map.Entry<MuxedStream, CompletableFuture<Long>> r : readers.entrySet()) {
      ConnectionFailedException e = Bounded.failsWith(ConnectionFailedException.class, r.getValue(), T,
          "reader of stream " + r.getKey().id() + " after the peer's kill");
      assertFalse(e instanceof ConnectionClosedException, "the peer's kill is not a graceful close: " + e);
      assertEquals(StreamState.FAILED, r.getKey().terminated().get(T, TimeUnit.SECONDS));
    }
    for (Connection c : List.of(dialer, acceptor)) {
      ConnectionFailedException e = Bounded.failsWith(ConnectionFailedException.class, c.closeFuture(), T,
          (c == dialer ? "the killed" : "the peer's") + " connection");
      assertFalse(e instanceof ConnectionClosedException, "a kill is not a graceful close: " + e);
      assertFalse(c.isOpen());
    }
  }

  @Test
  void aReaderThatStopsHoldsTheWriterUntilReset() throws Exception {
    int window = acceptor.options().receiveWindow(); // what the reader grants the writer
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    MuxedStream r = acceptor.acceptStream().get(T, TimeUnit.SECONDS); // yamux announces a stream by its SYN
    int chunk = 64 * 1024;
    assertEquals(0, window % chunk, "the window is a whole number of chunks: " + window);
    CompletableFuture<Void> writer = Bounded.run("writer", () -> {
      byte[] b = new byte[chunk];
      for (int k = 0; k < 1024; k++) { // 64 MiB, through the blocking view
        s.outputStream().write(b);
      }
    });
    InputStream in = r.inputStream(); // nobody reads it
    Bounded.until(T, () -> s.bytesWritten() >= window && Bounded.available(in) >= window,
        () -> "written " + s.bytesWritten() + ", buffered by the reader " + Bounded.available(in) + ", window " + window
            + ", writer " + writer);
    // The whole window went out and arrived; the writer has more than the window to write, so it must be held.
    assertEquals(window, s.bytesWritten(), "the writer got no credit beyond the window");
    assertEquals(window, Bounded.available(in), "the reader received no byte beyond the window");
    assertFalse(writer.isDone(), "64 MiB went out although nobody reads: " + writer);
    assertTrue(dialer.isOpen() && acceptor.isOpen(), "the writer kept within the window");
    r.reset(9);
    StreamResetException e = Bounded.failsWith(StreamResetException.class, writer, T, "the held writer after the reset");
    assertEquals(9, e.code());
    assertTrue(e.isRemote(), "the reader reset the stream, not the writer");
    assertEquals(StreamState.RESET, s.terminated().get(T, TimeUnit.SECONDS));
  }
}
