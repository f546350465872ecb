package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.TransportOptions;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Connection-level flow control survives streams that the receiver abandons. Every byte the peer sent on a stream
 * counts against the connection's window (RFC 9000 §4.5) whether or not the application reads it; a receiver that
 * drops a stream's bytes (closeRead, reset) must still return their credit, or the window shrinks with each such
 * stream until the whole connection stalls. kwik 0.10.8's own {@code abortReading} loses it; this test abandons
 * many times the connection window's worth of streams and then needs the window in full.
 */
class QuicFlowControlTest {
  private static final int CONNECTION_WINDOW = 256 * 1024;
  private static final int STREAM_WINDOW = 64 * 1024;
  private static final int ROUNDS = 48; // 48 x 64 KiB abandoned: 12 connection windows

  /** How the receiving end abandons a stream after its first byte arrived. */
  enum Abandon { CLOSE_READ, RESET }

  private QuicPair pair;
  private Connection dialer;
  private Connection accepted;

  @BeforeEach
  void connect() throws Exception {
    TransportOptions options = TransportOptions.builder()
        .receiveWindow(STREAM_WINDOW)
        .property(QuicOptions.CONNECTION_WINDOW.name(), Integer.toString(CONNECTION_WINDOW))
        .build();
    pair = QuicPair.connect(options);
    dialer = pair.dialer;
    accepted = pair.accepted;
  }

  @AfterEach
  void close() {
    pair.close();
  }

  @ParameterizedTest
  @EnumSource(Abandon.class)
  void bytesOfAbandonedStreamsReturnTheirConnectionCredit(Abandon how) throws Exception {
    for (int i = 0; i < ROUNDS; i++) {
      MuxedStream out = dialer.openStream().get(20, TimeUnit.SECONDS);
      out.write(ByteBuffer.wrap(new byte[STREAM_WINDOW])); // may never complete: the receiver stops it
      MuxedStream in = accepted.acceptStream().get(20, TimeUnit.SECONDS);
      QuicInteropTest.readExactly(in, 1);
      if (how == Abandon.CLOSE_READ) {
        in.closeRead();
        in.close();
      } else {
        in.reset(7);
      }
      out.reset(0);
      out.terminated().get(20, TimeUnit.SECONDS);
      in.terminated().get(20, TimeUnit.SECONDS);
    }
    // Two full connection windows on one stream: moves only if every abandoned byte was credited back.
    MuxedStream out = dialer.openStream().get(20, TimeUnit.SECONDS);
    int size = 2 * CONNECTION_WINDOW;
    out.write(ByteBuffer.wrap(new byte[size])).thenCompose(v -> out.closeWrite());
    MuxedStream in = accepted.acceptStream().get(20, TimeUnit.SECONDS);
    assertEquals(size, QuicInteropTest.readExactly(in, size).length,
        "the connection window must be whole again after " + ROUNDS + " abandoned streams");
  }
}
