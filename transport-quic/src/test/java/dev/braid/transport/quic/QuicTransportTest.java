package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.TransportOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** End-to-end behaviour of the QUIC transport between two Braid ends on loopback. */
class QuicTransportTest {
  private QuicPair pair;
  private Connection dialer;
  private Connection accepted;

  /**
   * Surefire runs with {@code -ea}; kwik 0.10.8's loss detector asserts a loss delay above 0 ms, which loopback RTTs
   * of 0 ms break at random, aborting the connection. The transport must have turned that assertion off before kwik
   * initialized the class.
   */
  @Test
  void kwikLossDetectorRunsWithoutItsLoopbackBreakingAssertion() throws Exception {
    assertTrue(QuicTransportTest.class.desiredAssertionStatus(), "the test JVM runs with -ea, as Surefire's default");
    ClassLoader kwik = tech.kwik.core.QuicClientConnection.class.getClassLoader();
    Class<?> lossDetector = Class.forName("tech.kwik.core.recovery.LossDetector", false, kwik);
    assertFalse(lossDetector.desiredAssertionStatus());
    Class<?> other = Class.forName("tech.kwik.core.stream.StreamManager", false, kwik);
    assertTrue(other.desiredAssertionStatus(), "kwik's other assertions stay as the JVM was told");
  }

  @BeforeEach
  void connect() throws Exception {
    pair = QuicPair.connect(TransportOptions.DEFAULTS);
    dialer = pair.dialer;
    accepted = pair.accepted;
  }

  @AfterEach
  void close() {
    pair.close();
  }

  @Test
  void resetCodeReachesThePeer() throws Exception {
    MuxedStream local = dialer.openStream().get(10, TimeUnit.SECONDS);
    local.write(ByteBuffer.wrap(new byte[100])).get(10, TimeUnit.SECONDS);
    MuxedStream remote = accepted.acceptStream().get(10, TimeUnit.SECONDS);
    ByteBuffer buf = ByteBuffer.allocate(100);
    while (buf.hasRemaining()) {
      remote.read(buf).get(10, TimeUnit.SECONDS);
    }
    local.reset(0xBEEF);
    assertEquals(StreamState.RESET, remote.terminated().get(10, TimeUnit.SECONDS));
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> remote.read(ByteBuffer.allocate(1)).get(30, TimeUnit.SECONDS));
    StreamResetException r = assertInstanceOf(StreamResetException.class, e.getCause());
    assertTrue(r.isRemote());
    assertEquals(0xBEEF, r.code());
  }

  @Test
  void smallMessagesEcho() throws Exception {
    MuxedStream local = dialer.openStream().get(10, TimeUnit.SECONDS);
    local.write(ByteBuffer.wrap(new byte[1])).get(10, TimeUnit.SECONDS);
    MuxedStream remote = accepted.acceptStream().get(10, TimeUnit.SECONDS);
    readFully(remote, 1, local);
    for (int i = 0; i < 300; i++) {
      byte[] msg = new byte[1 + (i * 37) % 1500];
      java.util.Arrays.fill(msg, (byte) i);
      local.write(ByteBuffer.wrap(msg)).get(10, TimeUnit.SECONDS);
      byte[] got = readFully(remote, msg.length, local);
      remote.write(ByteBuffer.wrap(got)).get(10, TimeUnit.SECONDS);
      org.junit.jupiter.api.Assertions.assertArrayEquals(msg, readFully(local, msg.length, remote), "echo " + i);
    }
    System.out.println("KICKS " + ((dev.braid.transport.quic.internal.QuicMuxedStream) local).describe() + " / "
        + ((dev.braid.transport.quic.internal.QuicMuxedStream) remote).describe());
  }

  static byte[] readFully(MuxedStream s, int n, MuxedStream other) throws Exception {
    ByteBuffer buf = ByteBuffer.allocate(n);
    while (buf.hasRemaining()) {
      try {
        if (s.read(buf).get(30, TimeUnit.SECONDS) < 0) {
          throw new AssertionError("EOF");
        }
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("stuck at " + buf.position() + "/" + n + ": reader "
            + ((dev.braid.transport.quic.internal.QuicMuxedStream) s).describe() + " / writer "
            + ((dev.braid.transport.quic.internal.QuicMuxedStream) other).describe());
      }
    }
    return buf.array();
  }

  @Test
  void dialWithAWrongCertHashFails() throws Exception {
    URI a = pair.listener.address();
    URI wrong = URI.create("quic://" + a.getHost() + ":" + a.getPort() + "?certhash=" + "00".repeat(32));
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> pair.client.dial(wrong).get(20, TimeUnit.SECONDS));
    assertInstanceOf(dev.braid.ConnectionFailedException.class, e.getCause());
  }

  @Test
  void listenerAddressCarriesTheCertificateHash() {
    URI a = pair.listener.address();
    assertEquals("quic", a.getScheme());
    assertTrue(a.getQuery().matches("certhash=[0-9a-f]{64}"), a.toString());
  }

  @Test
  void providerIsFoundBothWays() {
    assertTrue(java.util.ServiceLoader.load(dev.braid.spi.TransportProvider.class).stream()
        .anyMatch(p -> p.get().id().equals("quic") && p.get().isAvailable()));
    assertEquals(java.util.Set.of("quic"), new QuicTransportProvider().schemes());
  }
}
