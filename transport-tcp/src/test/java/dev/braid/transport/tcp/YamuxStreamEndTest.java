package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.DataInputStream;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The end of a stream on the wire, against a hand-written yamux peer (a raw socket): a stream leaves the
 * session exactly when yamux says it is gone (both FINs, or a RST either way), and a CLOSED stream whose peer
 * never sends its FIN is reset with {@code INTERNAL_ERROR} once the idle timeout passed (the linger bound of
 * {@code AbstractMuxedStream}), then leaves too. "Left the session" is checked on the wire: a window update
 * that would overflow the stream's send window is a protocol error for a stream the session still knows, and
 * ignored for one it forgot; a ping after it proves the connection read it and stayed open.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class YamuxStreamEndTest {
  private static final long T = 30;
  private static final int WINDOW_UPDATE = 1;
  private static final int PING = 2;
  private static final int GO_AWAY = 3;
  private static final int SYN = 1;
  private static final int ACK = 2;
  private static final int FIN = 4;
  private static final int RST = 8;

  private Transport server;
  private Listener listener;
  private Socket socket;
  private DataInputStream in;
  private OutputStream out;
  private Connection braid;
  private final List<Frame> seen = new ArrayList<>();

  /** A frame the raw peer received (payloads skipped). */
  private record Frame(int type, int flags, long stream, long length) {}

  @BeforeEach
  void connect() throws Exception {
    // Braid pings every 250 ms and the raw peer answers, so the 2 s idle timeout never ends the connection; it
    // only bounds how long a terminal stream may linger. The default window: SYN and ACK carry no extra credit.
    server = new TcpTransportProvider().create(TransportOptions.builder().receiveWindow(256 * 1024)
        .keepAliveInterval(Duration.ofMillis(250))
        .idleTimeout(Duration.ofSeconds(2)).build());
    listener = server.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> accepted = listener.accept();
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
    socket.setSoTimeout(20_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    braid = accepted.get(T, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws IOException {
    if (socket != null) {
      socket.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aClosedStreamWhosePeerNeverSendsFinIsResetWithInternalErrorAfterTheIdleTimeoutAndForgotten() throws Exception {
    send(WINDOW_UPDATE, SYN, 1, 0);
    MuxedStream s = braid.acceptStream().get(T, TimeUnit.SECONDS);
    s.close(); // our FIN goes; the peer never answers with its own
    assertEquals(StreamState.CLOSED, s.state());
    awaitFrame(new Frame(WINDOW_UPDATE, FIN, 1, 0));
    awaitFrame(new Frame(WINDOW_UPDATE, RST, 1, StreamResetException.INTERNAL_ERROR));
    assertEquals(StreamState.CLOSED, s.terminated().get(T, TimeUnit.SECONDS), "the reset on the wire changes no state");
    assertForgotten(1);
  }

  @Test
  void bothFinsEndTheStreamOnTheWire() throws Exception {
    send(WINDOW_UPDATE, SYN | FIN, 1, 0);
    MuxedStream s = braid.acceptStream().get(T, TimeUnit.SECONDS);
    assertEquals(-1, s.read(ByteBuffer.allocate(1)).get(T, TimeUnit.SECONDS));
    s.closeWrite().get(T, TimeUnit.SECONDS);
    awaitFrame(new Frame(WINDOW_UPDATE, FIN, 1, 0));
    assertEquals(StreamState.CLOSED, s.terminated().get(T, TimeUnit.SECONDS));
    assertForgotten(1);
    assertTrue(seen.stream().noneMatch(f -> f.stream() == 1 && (f.flags() & RST) != 0),
        "no reset after both FINs: " + seen);
  }

  @Test
  void aResetEitherWayEndsTheStreamOnTheWire() throws Exception {
    send(WINDOW_UPDATE, SYN, 1, 0);
    MuxedStream theirs = braid.acceptStream().get(T, TimeUnit.SECONDS);
    send(WINDOW_UPDATE, RST, 1, 9);
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> theirs.read(ByteBuffer.allocate(1)).get(T, TimeUnit.SECONDS));
    assertEquals(9, assertInstanceOf(StreamResetException.class, e.getCause()).code());
    assertForgotten(1);

    MuxedStream ours = braid.openStream().get(T, TimeUnit.SECONDS);
    awaitFrame(new Frame(WINDOW_UPDATE, SYN, ours.id(), 0));
    ours.reset(7);
    awaitFrame(new Frame(WINDOW_UPDATE, RST, ours.id(), 7));
    assertForgotten(ours.id());
  }

  /** A window update overflowing the stream's send window is ignored (the stream is gone), and the connection lives. */
  private void assertForgotten(long stream) throws IOException {
    long token = 1000 + stream;
    send(WINDOW_UPDATE, 0, stream, 0xFFFF_FFFFL);
    send(PING, SYN, 0, token);
    awaitFrame(new Frame(PING, ACK, 0, token));
    assertTrue(seen.stream().noneMatch(f -> f.type() == GO_AWAY), "no go-away: the frame was ignored; saw " + seen);
    assertTrue(braid.isOpen(), "the connection is open");
  }

  private void send(int type, int flags, long stream, long length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(12);
    b.put((byte) 0).put((byte) type).putShort((short) flags).putInt((int) stream).putInt((int) length);
    out.write(b.array());
    out.flush();
  }

  /** Reads until {@code expected} arrives, answering Braid's keep-alive pings meanwhile. */
  private void awaitFrame(Frame expected) throws IOException {
    while (true) {
      in.readUnsignedByte();
      Frame f = new Frame(in.readUnsignedByte(), in.readUnsignedShort(), Integer.toUnsignedLong(in.readInt()),
          Integer.toUnsignedLong(in.readInt()));
      if (f.type() == 0) {
        in.skipNBytes(f.length());
      }
      if (f.type() == PING && f.flags() == SYN) {
        send(PING, ACK, 0, f.length());
        continue;
      }
      seen.add(f);
      if (f.equals(expected)) {
        return;
      }
      if (f.type() == GO_AWAY) {
        throw new AssertionError("go-away while waiting for " + expected + "; saw " + seen);
      }
    }
  }
}
