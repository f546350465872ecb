package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.tls.CertificatePins;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.frame.StreamFrame;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.log.NullLogger;

/**
 * Peers that misbehave: garbage datagrams on the listener's port, and a raw kwik client that opens streams
 * beyond the granted limit or sends beyond the flow-control window. The offending connection fails with a
 * protocol error naming the fault; another connection on the same listener carries on; the JVM lives.
 */
class QuicBadInputTest {
  private Transport server;
  private Transport client;
  private Listener listener;
  private Connection good;
  private Connection goodAccepted;

  @BeforeEach
  void start() throws Exception {
    TransportOptions options = TransportOptions.builder().maxStreams(16).receiveWindow(64 * 1024).build();
    server = new QuicTransportProvider().create(options);
    client = new QuicTransportProvider().create(options);
    listener = server.listen(URI.create("quic://127.0.0.1:0"));
    CompletableFuture<Connection> a = listener.accept();
    good = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
    goodAccepted = a.get(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  private void assertGoodConnectionWorks() throws Exception {
    MuxedStream s = good.openStream().get(20, TimeUnit.SECONDS);
    byte[] msg = "still fine".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    s.write(ByteBuffer.wrap(msg)).get(20, TimeUnit.SECONDS);
    MuxedStream r = goodAccepted.acceptStream().get(20, TimeUnit.SECONDS);
    assertArrayEquals(msg, QuicInteropTest.readExactly(r, msg.length));
    s.reset(0);
  }

  @Test
  void garbageDatagramsAreIgnored() throws Exception {
    int port = listener.address().getPort();
    Random random = new Random(7);
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      for (int i = 0; i < 2000; i++) {
        int size = i % 4 == 0 ? 1200 + random.nextInt(300) : 5 + random.nextInt(1500);
        byte[] junk = new byte[size];
        random.nextBytes(junk);
        if (i % 3 == 0) {
          junk[0] = (byte) 0xc0; // looks like a long-header (Initial) packet
          junk[1] = 0; junk[2] = 0; junk[3] = 0; junk[4] = 1; // version 1
        } else if (i % 3 == 1) {
          junk[0] = (byte) (0x40 | (junk[0] & 0x3f)); // looks like a short-header packet
        }
        socket.send(new DatagramPacket(junk, junk.length, InetAddress.getLoopbackAddress(), port));
      }
    }
    assertGoodConnectionWorks();
    // and a fresh dial still succeeds
    CompletableFuture<Connection> a = listener.accept();
    Connection again = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
    a.get(20, TimeUnit.SECONDS);
    assertTrue(again.isOpen());
  }

  private QuicConnectionImpl rawKwikClient() throws Exception {
    URI address = listener.address();
    QuicClientConnection c = QuicClientConnection.newBuilder()
        .host(address.getHost()).port(address.getPort())
        .applicationProtocol(QuicOptions.ALPN.fallback()) // braid/1
        .customTrustManager(CertificatePins.trustOnly(address.getQuery().replace("certhash=", "")))
        .logger(new NullLogger())
        .build();
    c.connect();
    return (QuicConnectionImpl) c;
  }

  private void assertViolationEndsOnlyThatConnection(java.util.function.Consumer<QuicConnectionImpl> violation,
      String errorName) throws Exception {
    CompletableFuture<Connection> a = listener.accept();
    QuicConnectionImpl raw = rawKwikClient();
    try {
      Connection victim = a.get(20, TimeUnit.SECONDS);
      violation.accept(raw);
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> victim.closeFuture().get(20, TimeUnit.SECONDS));
      ProtocolException pe = assertInstanceOf(ProtocolException.class, e.getCause());
      assertTrue(pe.getMessage().contains(errorName), pe.getMessage());
      assertGoodConnectionWorks();
    } finally {
      raw.close();
    }
  }

  /** Sends a frame and sends it again when kwik declares it lost (it may reach the server before its 1-RTT keys). */
  private static void sendReliably(QuicConnectionImpl raw, StreamFrame frame) {
    raw.send(frame, lost -> sendReliably(raw, frame), true);
  }

  @Test
  void peerExceedingTheStreamLimitIsRefused() throws Exception {
    // maxStreams=16: Braid grants 16 + 16 streams of credit (the excess over its limit is refused with REFUSED,
    // see QuicTransport.peerStreamCredit), so client-initiated bidirectional stream ids 0, 4, ..., 124 are allowed;
    // 4 * 400 is not.
    assertViolationEndsOnlyThatConnection(raw -> sendReliably(raw, new StreamFrame(4 * 400, 0, new byte[10], false)),
        "STREAM_LIMIT_ERROR");
  }

  @Test
  void peerExceedingFlowControlIsRefused() throws Exception {
    // receiveWindow=64 KiB: bytes at offset 1 MiB on stream 0 are far beyond the credit granted.
    assertViolationEndsOnlyThatConnection(raw -> sendReliably(raw, new StreamFrame(0, 1 << 20, new byte[100], false)),
        "FLOW_CONTROL_ERROR");
  }
}
