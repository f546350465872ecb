package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.tcp.internal.TcpConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
    acceptor.setStreamHandler(s -> new Thread(() -> {
      try {
        s.inputStream().transferTo(java.io.OutputStream.nullOutputStream());
      } catch (Exception e) {
        // the kill
      }
    }).start());
    List<MuxedStream> streams = new ArrayList<>();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
      streams.add(s);
      writers.add(CompletableFuture.runAsync(() -> {
        try {
          for (int k = 0; k < 1024; k++) {
            s.outputStream().write(new byte[64 * 1024]);
          }
        } catch (Exception e) {
          // expected after the kill
        }
      }));
    }
    Thread.sleep(300);
    ((TcpConnection) dialer).killSocket();
    for (MuxedStream s : streams) {
      assertEquals(StreamState.FAILED, s.terminated().get(T, TimeUnit.SECONDS));
    }
    for (MuxedStream s : new ArrayList<>(acceptor.streams())) {
      assertEquals(StreamState.FAILED, s.terminated().get(T, TimeUnit.SECONDS));
    }
    CompletableFuture.allOf(writers.toArray(new CompletableFuture<?>[0])).get(T, TimeUnit.SECONDS);
    assertFalse(dialer.isOpen());
    acceptor.closeFuture().handle((v, e) -> null).get(T, TimeUnit.SECONDS);
    assertFalse(acceptor.isOpen());
  }

  @Test
  void aReaderThatStopsHoldsTheWriterUntilReset() throws Exception {
    MuxedStream s = dialer.openStream().get(T, TimeUnit.SECONDS);
    s.write(ByteBuffer.wrap(new byte[] {1})).get(T, TimeUnit.SECONDS);
    MuxedStream r = acceptor.acceptStream().get(T, TimeUnit.SECONDS);
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      try {
        for (int k = 0; k < 1024; k++) {
          s.outputStream().write(new byte[64 * 1024]);
        }
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    Thread.sleep(1000);
    assertFalse(writer.isDone(), "64 MiB went out although nobody reads");
    assertTrue(s.bytesWritten() <= 256 * 1024 + 1, "no more than the window left: " + s.bytesWritten());
    r.reset(9);
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> writer.get(T, TimeUnit.SECONDS));
    assertTrue(e.getCause().getCause() instanceof StreamResetException, String.valueOf(e.getCause()));
  }
}
