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
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
      Thread.sleep(500); // the listener's side is queued for accept() by now (or, if not, still in its handshake)
      l.close();
      d.closeFuture().handle((v, e) -> null).get(20, TimeUnit.SECONDS);
      assertFalse(d.isOpen());
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
      String answer = during.exchange(l.address(), null);
      l.close(); // `during` has its answer but has not applied it: the listener's side is still in its handshake
      // The abort closes the listener's peer connection asynchronously, on the transport's signaling thread (tens of
      // ms); an answer applied before that could still complete DTLS and SCTP with it. Left running, the listener's
      // side would still be there after this wait, for the rest of the 30 s.
      Thread.sleep(1000);
      during.applyAnswer(answer);
      assertFalse(during.controlOpens(5000),
          "the listener's side of a handshake in flight is aborted when the listener closes; it connected anyway");
    }
  }

  private static void assertClosed(CompletableFuture<Connection> accept) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> accept.get(10, TimeUnit.SECONDS));
    ConnectionClosedException c = assertInstanceOf(ConnectionClosedException.class, e.getCause());
    assertTrue(!c.isRemote(), "closed locally: " + c);
  }
}
