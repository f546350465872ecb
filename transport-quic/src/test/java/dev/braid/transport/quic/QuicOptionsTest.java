package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.tls.ListenerIdentity;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QUIC's own options ({@link QuicOptions}) and the shared {@code tls.*} keystore options, end to end. */
class QuicOptionsTest {
  private static final QuicTransportProvider PROVIDER = new QuicTransportProvider();
  private static final URI LOOPBACK = URI.create("quic://127.0.0.1:0");

  @Test
  void aBadValueFailsCreateWithTheOptionKeysMessage() {
    TransportOptions bad = TransportOptions.builder().property("quic.connectionWindow", "lots").build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PROVIDER.create(bad));
    assertEquals("option quic.connectionWindow must be an integer from 0 to 4611686018427387903, was \"lots\"",
        e.getMessage());
    TransportOptions negative = TransportOptions.builder().property("quic.connectionWindow", "-1").build();
    e = assertThrows(IllegalArgumentException.class, () -> PROVIDER.create(negative));
    assertTrue(e.getMessage().startsWith("option quic.connectionWindow must be"), e.getMessage());
  }

  @Test
  void theListenerUsesTheConfiguredKeyStore(@TempDir Path dir) throws Exception {
    // kwik's client checks the dialed host against dNSName entries only, even an IP literal
    ListenerIdentity made = ListenerIdentity.selfSigned("braid-keystore", List.of("127.0.0.1"), List.of());
    Path file = dir.resolve("listener.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      made.toKeyStore("secret".toCharArray()).store(out, "secret".toCharArray());
    }
    TransportOptions options = TransportOptions.builder()
        .property(TransportOptions.TLS_KEY_STORE.name(), file.toString())
        .property(TransportOptions.TLS_KEY_STORE_PASSWORD.name(), "secret")
        .build();
    try (Transport server = PROVIDER.create(options); Transport client = PROVIDER.create(TransportOptions.DEFAULTS)) {
      Listener listener = server.listen(LOOPBACK);
      assertEquals("certhash=" + made.certificateHash(), listener.address().getQuery());
      CompletableFuture<Connection> accepted = listener.accept();
      assertTrue(client.dial(listener.address()).get(20, TimeUnit.SECONDS).isOpen());
      assertTrue(accepted.get(20, TimeUnit.SECONDS).isOpen());

      TransportOptions wrongPassword = options.toBuilder()
          .property(TransportOptions.TLS_KEY_STORE_PASSWORD.name(), "wrong").build();
      try (Transport other = PROVIDER.create(wrongPassword)) {
        assertThrows(IOException.class, () -> other.listen(LOOPBACK));
      }
    }
  }

  @Test
  void bothEndsMustAgreeOnTheAlpn() throws Exception {
    TransportOptions other = TransportOptions.builder().property(QuicOptions.ALPN.name(), "not-braid").build();
    try (Transport server = PROVIDER.create(TransportOptions.DEFAULTS); Transport client = PROVIDER.create(other)) {
      Listener listener = server.listen(LOOPBACK);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> client.dial(listener.address()).get(30, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, e.getCause());
    }
  }

  /**
   * The default ALPN names the stream mapping: {@code braid/1} (the stream preamble). An end of the old mapping
   * ({@code braid}: a zero-length STREAM frame announces a stream, no preamble) is refused at the handshake, either
   * way round, instead of taking the other's preamble for application data.
   */
  @Test
  void anEndOfTheOldMappingIsRefusedAtTheHandshake() throws Exception {
    assertEquals("braid/1", QuicOptions.ALPN.fallback());
    TransportOptions old = TransportOptions.builder().property(QuicOptions.ALPN.name(), "braid").build();
    try (Transport current = PROVIDER.create(TransportOptions.DEFAULTS); Transport previous = PROVIDER.create(old)) {
      Listener newListener = current.listen(LOOPBACK);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> previous.dial(newListener.address()).get(30, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, e.getCause());

      Listener oldListener = previous.listen(LOOPBACK);
      e = assertThrows(ExecutionException.class, () -> current.dial(oldListener.address()).get(30, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionFailedException.class, e.getCause());

      CompletableFuture<Connection> accepted = newListener.accept(); // and two current ends agree
      assertTrue(current.dial(newListener.address()).get(20, TimeUnit.SECONDS).isOpen());
      assertTrue(accepted.get(20, TimeUnit.SECONDS).isOpen());
    }
  }
}
