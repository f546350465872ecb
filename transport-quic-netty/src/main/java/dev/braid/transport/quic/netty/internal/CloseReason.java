package dev.braid.transport.quic.netty.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.ProtocolException;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicTransportError;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Why a QUIC connection ended, as the cause Braid's streams and close future fail with (null for a graceful close).
 *
 * <p><b>Thread safety.</b> Stateless.
 */
final class CloseReason {
  private CloseReason() {}

  /**
   * @param event the peer's CONNECTION_CLOSE as Netty reported it, or null
   * @param timedOut quiche's idle timer closed the connection (silently, RFC 9000 §10.1)
   */
  /**
   * The reason phrase. Netty 4.2.18's {@code reason()} clones its array without a null check, and the array is null when
   * quiche reports no phrase: that NullPointerException means "no phrase", nothing else.
   */
  private static byte[] reasonOf(QuicConnectionCloseEvent event) {
    try {
      return event.reason();
    } catch (NullPointerException noPhrase) {
      return null;
    }
  }

  static Throwable of(QuicConnectionCloseEvent event, boolean timedOut, Duration idleTimeout) {
    if (timedOut) {
      return new ConnectionTimedOutException("QUIC idle timeout: nothing received from the peer for "
          + idleTimeout.toMillis() + " ms (quiche closed the connection silently; a vanished peer or a stalled sender "
          + "ends this way)", null);
    }
    if (event == null) {
      return new ConnectionFailedException("the QUIC connection ended without a CONNECTION_CLOSE from the peer "
          + "(quiche closed it: a protocol or TLS error on our side, or the socket failed)", null);
    }
    byte[] phrase = reasonOf(event);
    String reason = phrase == null || phrase.length == 0 ? "" : ": " + new String(phrase, StandardCharsets.UTF_8);
    long code = event.error() & 0xFFFF_FFFFL;
    if (event.isTlsError()) {
      return new ConnectionFailedException("the peer closed the QUIC connection with TLS alert "
          + QuicConnectionCloseEvent.extractTlsError(event.error()) + reason, null);
    }
    if (event.isApplicationClose()) {
      return code == 0 ? null
          : new ConnectionFailedException("the peer closed the QUIC connection with application error code " + code
              + reason, null);
    }
    if (code == 0) {
      return null; // CONNECTION_CLOSE with NO_ERROR
    }
    String name;
    try {
      name = QuicTransportError.valueOf(code).name();
    } catch (RuntimeException unknown) {
      name = "transport error";
    }
    return new ProtocolException("the peer closed the QUIC connection with " + name + " (0x" + Long.toHexString(code)
        + ")" + reason);
  }
}
