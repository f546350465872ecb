package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.webrtc.internal.WebRtcProbe;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The WebRTC listener's own lifecycle: its close fails waiting and later accepts, is idempotent and keeps the
 * address; a connection that was never accepted, and a handshake still in flight, end when it closes. Runs in the
 * test network namespace.
 */
class WebRtcListenerTest {
  private final WebRtcTransportProvider provider = new WebRtcTransportProvider();

  @Test
  void closeFailsWaitingAndLaterAcceptsIsIdempotentAndFreesTheEndpoint() throws Exception {
    NetnsCheck.requireTestNamespace();
    try (Transport t = provider.create(TransportOptions.DEFAULTS);
        Transport dialer = provider.create(TransportOptions.DEFAULTS)) {
      Listener l = t.listen(provider.testListenAddress());
      URI address = l.address();
      assertNotEquals(0, address.getPort(), "the address names the bound port");
      CompletableFuture<Connection> waiting = l.accept();
      l.close();
      assertClosed(waiting);
      assertClosed(l.accept());
      l.close(); // idempotent
      assertEquals(address, l.address());
      assertThrows(ExecutionException.class, () -> dialer.dial(address).get(20, TimeUnit.SECONDS),
          "the signaling endpoint is closed");
    }
  }

  @Test
  void aConnectionNeverAcceptedEndsWhenTheListenerCloses() throws Exception {
    NetnsCheck.requireTestNamespace();
    try (Transport a = provider.create(TransportOptions.DEFAULTS);
        Transport b = provider.create(TransportOptions.DEFAULTS)) {
      Listener l = b.listen(provider.testListenAddress());
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      awaitTrue(() -> WebRtcProbe.waitingForAccept(l) == 1, "the listener's side waits for accept()");
      l.close();
      d.closeFuture().handle((v, e) -> null).get(20, TimeUnit.SECONDS);
      assertFalse(d.isOpen());
      awaitTrue(() -> WebRtcProbe.connections(b) == 0, "the listener's side is closed and disposed");
    }
  }

  @Test
  void aHandshakeInFlightIsAbortedWhenTheListenerCloses() throws Exception {
    NetnsCheck.requireTestNamespace();
    // A handshake left alone lasts until the connect timeout: long enough to tell "aborted" from "left running".
    TransportOptions options = TransportOptions.builder().connectTimeout(Duration.ofSeconds(30)).build();
    try (Transport t = provider.create(options); RawPeer before = new RawPeer(); RawPeer during = new RawPeer()) {
      Listener l = t.listen(provider.testListenAddress());
      CompletableFuture<Connection> accepted = l.accept();
      before.connect(l.address(), null); // while the listener is open, the same exchange connects
      accepted.get(20, TimeUnit.SECONDS);
      during.exchange(l.address(), null); // `during` never applies the answer: its handshake cannot complete
      assertEquals(1, WebRtcProbe.handshakes(l), "one handshake in flight");
      assertEquals(2, WebRtcProbe.connections(t), "the accepted connection and the one in its handshake");
      l.close();
      assertEquals(0, WebRtcProbe.handshakes(l));
      // Aborted, the listener's side closes and disposes its peer connection (on the signaling thread) within
      // moments; left running it would stay for the rest of the 30 s connect timeout, far beyond this wait.
      awaitTrue(() -> WebRtcProbe.connections(t) == 1,
          "the listener's side of a handshake in flight is aborted when the listener closes");
    }
  }

  /** Waits, bounded (10 s, well below the 30 s a handshake left running would last), for {@code condition}. */
  private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  private static void assertClosed(CompletableFuture<Connection> accept) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> accept.get(10, TimeUnit.SECONDS));
    ConnectionClosedException c = assertInstanceOf(ConnectionClosedException.class, e.getCause());
    assertTrue(!c.isRemote(), "closed locally: " + c);
  }
}
