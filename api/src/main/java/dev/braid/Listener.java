package dev.braid;

import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * A bound endpoint that accepts inbound {@link Connection}s.
 *
 * <p><b>Thread safety.</b> This interface is thread-safe; no method blocks. The future of {@link #accept()}
 * completes on the transport's thread; its dependent actions run on Braid event threads, as for
 * {@link MuxedStream}.
 */
public interface Listener extends AutoCloseable {

  /**
   * The address peers dial, with the actual port and any parameters a dialer needs (e.g. the QUIC
   * certificate hash), so that {@code transport.dial(listener.address())} reaches this listener.
   */
  URI address();

  /**
   * The next inbound connection. Completes exceptionally with {@link ConnectionClosedException} once the
   * listener is closed.
   */
  CompletableFuture<Connection> accept();

  /** Stops accepting; connections already accepted stay open. Idempotent. */
  @Override
  void close();
}
