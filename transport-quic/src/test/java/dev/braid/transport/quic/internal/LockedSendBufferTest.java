package dev.braid.transport.quic.internal;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.quic.QuicTransportProvider;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import tech.kwik.core.impl.Version;
import tech.kwik.core.stream.SendBuffer;

/**
 * kwik 0.10.8's {@code SendBuffer} does not survive a {@code clear()} while its sender thread takes a frame from it, and
 * kwik clears it on its receiver thread when a peer's STOP_SENDING arrives (Kwik0108 section 5): the sender thread dies
 * and kwik aborts the connection. Braid gives every stream a {@link LockedSendBuffer}. This runs one harness, a
 * consumer thread taking frames as kwik's sender does while another thread writes and clears, against kwik's buffer
 * (the control: it must fail, or the harness proves nothing and the workaround may be obsolete) and against Braid's.
 */
class LockedSendBufferTest {
  /** Write-and-clear rounds the harness allows kwik's buffer to fail in; it usually fails within a few thousand. */
  private static final int CONTROL_ROUNDS = 50_000_000;
  /** Rounds the locked buffer must survive. */
  private static final int LOCKED_ROUNDS = 2_000_000;

  @Test
  void kwiksOwnBufferFailsUnderAConcurrentClear() throws Exception {
    long seed = System.nanoTime();
    Throwable failure = race(new SendBuffer(Kwik0108.SEND_BUFFER), CONTROL_ROUNDS, seed);
    assertNotNull(failure, "kwik's SendBuffer survived " + CONTROL_ROUNDS + " concurrent clears (seed " + seed
        + "): if kwik fixed it, Kwik0108 section 5 and LockedSendBuffer can go");
  }

  @Test
  void theLockedBufferSurvivesAConcurrentClear() throws Exception {
    long seed = System.nanoTime();
    Throwable failure = race(new LockedSendBuffer(Kwik0108.SEND_BUFFER), LOCKED_ROUNDS, seed);
    assertNull(failure, () -> "the locked buffer failed under a concurrent clear: " + failure + " (seed " + seed
        + "; replay: mvn -pl transport-quic test -Dtest=LockedSendBufferTest)");
  }

  @Test
  void everyStreamOfBothEndsGetsALockedBuffer() throws Exception {
    assertTrue(LockedSendBuffer.installable(), "reflection into kwik is allowed on the class path");
    Transport server = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    Transport client = new QuicTransportProvider().create(TransportOptions.DEFAULTS);
    try {
      Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> a = listener.accept();
      Connection dialer = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
      Connection accepted = a.get(20, TimeUnit.SECONDS);
      for (int i = 0; i < 3; i++) {
        QuicMuxedStream out = (QuicMuxedStream) dialer.openStream().get(20, TimeUnit.SECONDS);
        out.write(ByteBuffer.wrap(new byte[10])).get(20, TimeUnit.SECONDS);
        QuicMuxedStream in = (QuicMuxedStream) accepted.acceptStream().get(20, TimeUnit.SECONDS);
        assertTrue(out.sendBufferLocked(), "the opener's stream " + out.describe());
        assertTrue(in.sendBufferLocked(), "the acceptor's stream " + in.describe());
      }
    } finally {
      client.close();
      server.close();
    }
  }

  /**
   * One thread takes frames whenever the buffer has data, as kwik's sender does; this thread writes one to three small
   * chunks (seeded) and clears them, {@code rounds} times or until the taker fails.
   *
   * @return the taker's failure, or null if it survived every round
   */
  private static Throwable race(SendBuffer buffer, int rounds, long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread taker = new Thread(() -> {
      try {
        while (!stop.get()) {
          if (buffer.hasData()) {
            buffer.getStreamFrame(Version.getDefault(), 0, 0, 150);
          }
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "sender-like taker");
    taker.setDaemon(true);
    taker.start();
    byte[] chunk = new byte[100];
    try {
      for (int i = 0; i < rounds && failure.get() == null; i++) {
        for (int n = 1 + random.nextInt(3); n > 0; n--) {
          buffer.write(chunk, 0, chunk.length);
        }
        buffer.clear();
      }
    } finally {
      stop.set(true);
      taker.join(TimeUnit.SECONDS.toMillis(20));
    }
    assertTrue(!taker.isAlive(), "the taker thread ended");
    return failure.get();
  }
}
