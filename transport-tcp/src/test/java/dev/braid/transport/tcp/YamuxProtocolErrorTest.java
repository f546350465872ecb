package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
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

/**
 * A hand-written, misbehaving yamux peer (a raw socket) against a Braid listener: each fault ends that
 * connection with a {@link ProtocolException} naming it and a go-away (protocol error) on the wire;
 * nothing hangs, and a healthy Braid connection on the same transport is untouched.
 */
class YamuxProtocolErrorTest {
  private static final long T = 30;
  private Transport server;
  private Transport client;
  private Listener listener;
  private Connection healthy;
  private Connection healthyPeer;

  @BeforeEach
  void setUp() throws Exception {
    setUp(TransportOptions.DEFAULTS);
  }

  void setUp(TransportOptions options) throws Exception {
    tearDown();
    server = new TcpTransportProvider().create(options);
    client = new TcpTransportProvider().create(TransportOptions.DEFAULTS);
    listener = server.listen(URI.create("tcp://127.0.0.1:0"));
    CompletableFuture<Connection> acc = listener.accept();
    healthy = client.dial(listener.address()).get(T, TimeUnit.SECONDS);
    healthyPeer = acc.get(T, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private static byte[] frame(int version, int type, int flags, long stream, long length, int payload) {
    ByteBuffer b = ByteBuffer.allocate(12 + payload);
    b.put((byte) version).put((byte) type).putShort((short) flags).putInt((int) stream).putInt((int) length);
    return b.array();
  }

  private static byte[] frame(int type, int flags, long stream, long length) {
    return frame(0, type, flags, stream, length, 0);
  }

  private static byte[] data(int flags, long stream, int n) {
    return frame(0, 0, flags, stream, n, n);
  }

  /** Frames a raw peer received: {type, flags, stream, length}. */
  private record Seen(int type, int flags, long stream, long length) {}

  /** Sends {@code frames}, then reads until Braid closes; returns what Braid sent and the server-side cause. */
  private List<Seen> misbehave(String fault, byte[]... frames) throws Exception {
    CompletableFuture<Connection> acc = listener.accept();
    List<Seen> seen = new ArrayList<>();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
      s.setSoTimeout(20_000);
      Connection braid = acc.get(T, TimeUnit.SECONDS);
      OutputStream out = s.getOutputStream();
      for (byte[] f : frames) {
        out.write(f);
      }
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      try {
        while (true) {
          in.readUnsignedByte();
          int type = in.readUnsignedByte();
          int flags = in.readUnsignedShort();
          long stream = Integer.toUnsignedLong(in.readInt());
          long length = Integer.toUnsignedLong(in.readInt());
          if (type == 0) {
            in.skipNBytes(length);
          }
          seen.add(new Seen(type, flags, stream, length));
        }
      } catch (EOFException | java.net.SocketException e) {
        // Braid closed the connection: expected
      } catch (SocketTimeoutException e) {
        throw new AssertionError("Braid did not close the connection after: " + fault + "; saw " + seen, e);
      }
      ExecutionException e = assertThrows(ExecutionException.class, () -> braid.closeFuture().get(T, TimeUnit.SECONDS));
      ProtocolException p = assertInstanceOf(ProtocolException.class, e.getCause());
      assertTrue(p.getMessage().contains(fault), "expected '" + fault + "' in: " + p.getMessage());
    }
    assertTrue(seen.contains(new Seen(3, 0, 0, 1)), "a go-away with code 1 (protocol error) was sent; saw " + seen);
    // The healthy connection on the same transports still works.
    MuxedStream h = healthy.openStream().get(T, TimeUnit.SECONDS);
    h.write(ByteBuffer.wrap(new byte[] {42})).get(T, TimeUnit.SECONDS);
    MuxedStream hp = healthyPeer.acceptStream().get(T, TimeUnit.SECONDS);
    ByteBuffer one = ByteBuffer.allocate(1);
    assertEquals(1, hp.read(one).get(T, TimeUnit.SECONDS));
    assertEquals(42, one.get(0));
    return seen;
  }

  @Test
  void badVersion() throws Exception {
    misbehave("unsupported protocol version 1", frame(1, 1, 1, 1, 0, 0));
  }

  @Test
  void unknownType() throws Exception {
    misbehave("unknown frame type 9", frame(9, 0, 1, 0));
  }

  @Test
  void unknownFlags() throws Exception {
    misbehave("unknown flags 0x0041", frame(1, 0x41, 1, 0));
  }

  @Test
  void lengthOverTheLimit() throws Exception {
    misbehave("exceeds the limit", frame(0, 0, 0, 1, 100 << 20, 0));
  }

  @Test
  void dataOnAnUnknownStream() throws Exception {
    misbehave("for unknown stream 7", data(0, 7, 10));
  }

  @Test
  void dataBeyondTheReceiveWindow() throws Exception {
    misbehave("beyond its receive window", frame(1, 1, 1, 0), data(0, 1, 200_000), data(0, 1, 100_000));
  }

  @Test
  void windowUpdateOverflowingTheSendWindow() throws Exception {
    misbehave("overflows the send window", frame(1, 1, 1, 0), frame(1, 0, 1, 0xFFFF_FFFFL));
  }

  @Test
  void wrongParity() throws Exception {
    misbehave("wrong parity", frame(1, 1, 2, 0));
  }

  @Test
  void reusedStreamId() throws Exception {
    misbehave("reused stream id 3", frame(1, 1, 3, 0), frame(1, 8, 3, 0), frame(1, 1, 3, 0));
  }

  @Test
  void dataAfterFin() throws Exception {
    misbehave("after its FIN", frame(1, 1 | 4, 1, 0), data(0, 1, 5));
  }

  @Test
  void lateFramesForEndedStreamsAreIgnored() throws Exception {
    CompletableFuture<Connection> acc = listener.accept();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
      Connection braid = acc.get(T, TimeUnit.SECONDS);
      OutputStream out = s.getOutputStream();
      out.write(frame(1, 1, 1, 0)); // open 1
      out.write(frame(1, 8, 1, 0)); // reset 1
      out.write(data(0, 1, 10)); // late data on 1: ignored, not an error
      out.write(frame(1, 0, 1, 1000)); // late window update: ignored
      out.write(frame(2, 1, 0, 5)); // ping
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      s.setSoTimeout(20_000);
      boolean pong = false;
      while (!pong) {
        in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedShort();
        in.readInt();
        long length = Integer.toUnsignedLong(in.readInt());
        pong = type == 2 && flags == 2 && length == 5;
      }
      assertTrue(braid.isOpen(), "late frames for an ended stream do not end the connection");
    }
  }

  @Test
  void opensOutOfOrderAreAccepted() throws Exception {
    // go-yamux allocates ids under a lock but sends the SYN after releasing it: 5 may overtake 3.
    CompletableFuture<Connection> acc = listener.accept();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
      Connection braid = acc.get(T, TimeUnit.SECONDS);
      OutputStream out = s.getOutputStream();
      out.write(frame(1, 1, 5, 0));
      out.write(frame(1, 1, 3, 0));
      out.flush();
      assertEquals(5, braid.acceptStream().get(T, TimeUnit.SECONDS).id());
      assertEquals(3, braid.acceptStream().get(T, TimeUnit.SECONDS).id());
      assertTrue(braid.isOpen());
    }
  }

  @Test
  void excessInboundOpensAreRefusedWithRst() throws Exception {
    setUp(TransportOptions.builder().maxPendingInboundStreams(2).build());
    CompletableFuture<Connection> acc = listener.accept();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
      Connection braid = acc.get(T, TimeUnit.SECONDS);
      OutputStream out = s.getOutputStream();
      for (int id = 1; id <= 7; id += 2) {
        out.write(frame(1, 1, id, 0));
      }
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      s.setSoTimeout(20_000);
      List<Seen> seen = new ArrayList<>();
      while (seen.stream().filter(x -> x.flags() == 8).count() < 2) {
        in.readUnsignedByte();
        seen.add(new Seen(in.readUnsignedByte(), in.readUnsignedShort(), Integer.toUnsignedLong(in.readInt()),
            Integer.toUnsignedLong(in.readInt())));
      }
      assertTrue(seen.contains(new Seen(1, 8, 5, dev.braid.StreamResetException.REFUSED)), "stream 5 refused with RST (code REFUSED): " + seen);
      assertTrue(seen.contains(new Seen(1, 8, 7, dev.braid.StreamResetException.REFUSED)), "stream 7 refused with RST (code REFUSED): " + seen);
      assertTrue(braid.isOpen());
      MuxedStream first = braid.acceptStream().get(T, TimeUnit.SECONDS);
      assertEquals(1, first.id());
      assertEquals(StreamState.OPEN, first.state());
    }
  }

  @Test
  void aFloodOfOpensBeyondMaxStreamsIsRefused() throws Exception {
    setUp(TransportOptions.builder().maxStreams(16).build());
    CompletableFuture<Connection> acc = listener.accept();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
      Connection braid = acc.get(T, TimeUnit.SECONDS);
      braid.setStreamHandler(st -> { });
      OutputStream out = s.getOutputStream();
      for (int id = 1; id < 2 * 1000; id += 2) {
        out.write(frame(1, 1, id, 0));
      }
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      s.setSoTimeout(20_000);
      int rst = 0;
      while (rst < 1000 - 16) {
        in.readUnsignedByte();
        in.readUnsignedByte();
        int flags = in.readUnsignedShort();
        in.readInt();
        in.readInt();
        if (flags == 8) {
          rst++;
        }
      }
      assertTrue(braid.isOpen());
      assertNotNull(braid.streams());
      assertTrue(braid.streams().size() <= 16, braid.streams().size() + " streams live with maxStreams=16");
    }
  }

  @Test
  void abruptEofFailsTheConnection() throws Exception {
    CompletableFuture<Connection> acc = listener.accept();
    Connection braid;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", listener.address().getPort()), 10_000);
      braid = acc.get(T, TimeUnit.SECONDS);
      s.getOutputStream().write(frame(1, 1, 1, 0));
      s.getOutputStream().write(new byte[] {0, 0, 0}); // a partial header, then EOF
      s.shutdownOutput(); // a FIN, whatever Braid sent us (its ACK of the SYN): a close with unread bytes is a RST
      s.setSoTimeout(20_000);
      s.getInputStream().readAllBytes(); // until Braid closes too (each read bounded by the 20 s SO_TIMEOUT)
    }
    ExecutionException e = assertThrows(ExecutionException.class, () -> braid.closeFuture().get(T, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("without a yamux go-away"), e.getCause().getMessage());
  }
}
