package dev.braid.transport.quic.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.quic.QuicTransportProvider;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A stream that ends lets go of everything QUIC holds for it (kwik's input drained, its output settled, the tap's entry
 * dropped) as soon as it is finished on the wire, however it ended: never only when Braid's linger bound (the idle
 * timeout, 60 s here) runs out. In particular, the peer's RESET_STREAM answering our closeRead's STOP_SENDING ends the
 * peer's sending part, as a FIN would.
 */
class QuicStreamReleaseTest {
  /** How the opener's stream ends. */
  enum Ending { FIN_BOTH_WAYS, CLOSE_READ_THEN_CLOSE, RESET_BY_OPENER, RESET_BY_ACCEPTOR, CLOSE_READ_ON_BOTH_ENDS }

  private Transport server;
  private Transport client;
  private QuicConnection dialer;
  private QuicConnection accepted;

  @BeforeEach
  void connect() throws Exception {
    server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    client = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
    CompletableFuture<Connection> a = listener.accept();
    dialer = (QuicConnection) client.dial(listener.address()).get(20, TimeUnit.SECONDS);
    accepted = (QuicConnection) a.get(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void close() {
    client.close();
    server.close();
  }

  @ParameterizedTest
  @EnumSource(Ending.class)
  void aStreamThatEndedIsReleasedWithoutLingering(Ending ending) throws Exception {
    for (int round = 0; round < 4; round++) {
      QuicMuxedStream out = (QuicMuxedStream) dialer.openStream().get(20, TimeUnit.SECONDS);
      out.write(ByteBuffer.wrap(new byte[100_000])).get(20, TimeUnit.SECONDS);
      QuicMuxedStream in = (QuicMuxedStream) accepted.acceptStream().get(20, TimeUnit.SECONDS);
      readExactly(in, 1_000); // the rest stays unread: closeRead and resets drop it
      StreamState outEnd;
      StreamState inEnd;
      switch (ending) {
        case FIN_BOTH_WAYS -> {
          out.closeWrite();
          readExactly(in, 99_000);
          in.write(ByteBuffer.wrap(new byte[5_000])).get(20, TimeUnit.SECONDS);
          in.closeWrite();
          readExactly(out, 5_000);
          outEnd = StreamState.CLOSED;
          inEnd = StreamState.CLOSED;
        }
        case CLOSE_READ_THEN_CLOSE -> {
          in.write(ByteBuffer.wrap(new byte[5_000])).get(20, TimeUnit.SECONDS);
          out.closeRead(); // STOP_SENDING: the acceptor's kwik answers with RESET_STREAM, which is no reset
          out.close();
          readExactly(in, 99_000);
          in.closeWrite();
          outEnd = StreamState.CLOSED;
          inEnd = StreamState.CLOSED;
        }
        case RESET_BY_OPENER -> {
          out.reset(42);
          outEnd = StreamState.RESET;
          inEnd = StreamState.RESET;
        }
        case RESET_BY_ACCEPTOR -> {
          in.reset(43);
          outEnd = StreamState.RESET;
          inEnd = StreamState.RESET;
        }
        default -> { // CLOSE_READ_ON_BOTH_ENDS
          in.close();
          out.close();
          outEnd = StreamState.CLOSED;
          inEnd = StreamState.CLOSED;
        }
      }
      assertEquals(outEnd, out.terminated().get(20, TimeUnit.SECONDS), ending + ": opener " + out.describe());
      assertEquals(inEnd, in.terminated().get(20, TimeUnit.SECONDS), ending + ": acceptor " + in.describe());
      awaitReleased(dialer, out, ending);
      awaitReleased(accepted, in, ending);
    }
  }

  /** Waits until the connection's tap follows no stream: {@code s} let go of everything it held in kwik. */
  private static void awaitReleased(QuicConnection c, QuicMuxedStream s, Ending ending) throws Exception {
    try {
      c.tapEmpty().get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(ending + ": still followed by the tap after 20 s (the linger bound is 60 s; "
          + c.liveSignals() + " streams): " + s.describe(), e);
    }
    assertEquals(0, c.liveSignals());
  }

  private static void readExactly(MuxedStream s, int n) throws InterruptedException, ExecutionException,
      java.util.concurrent.TimeoutException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    while (buf.hasRemaining()) {
      if (s.read(buf).get(20, TimeUnit.SECONDS) < 0) {
        throw new AssertionError("EOF after " + buf.position() + " of " + n + " bytes");
      }
    }
  }
}
