package dev.braid;

import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A connection between two peers that carries many {@link MuxedStream}s.
 *
 * <p><b>Thread safety.</b> This interface is thread-safe and no method blocks. Braid never synchronizes on a
 * connection or stream object, so an application may use their monitors freely (kit rule T2).
 *
 * <p><b>Threads.</b> The futures of {@link #openStream}, {@link #acceptStream} and {@link #closeFuture} complete
 * on whichever thread learns the outcome (often a transport I/O thread); as for {@link MuxedStream}, blocked
 * {@code get()} callers are woken directly and dependent actions run on Braid event threads, never on the
 * completing thread, so they may block. The stream handler runs on a Braid event thread, one inbound stream at
 * a time per connection. {@link #close()} and {@link #abort} fail live streams on the calling thread, which may
 * be a listener or a continuation.
 *
 * <p><b>Lifecycle.</b> A connection is open until it is closed ({@link #close()}: gracefully by us,
 * or by the peer), aborted ({@link #abort(Throwable)}), or lost. When that happens every stream that has
 * not yet ended moves to {@link StreamState#FAILED} with a {@link ConnectionFailedException} naming the
 * cause, and is removed from {@link #streams()}; {@link #closeFuture()} then completes, normally after a
 * graceful close and exceptionally with the cause otherwise. Streams that end on their own are removed
 * from {@link #streams()} as soon as they reach a terminal state.
 *
 * <p>Inbound streams are delivered to the handler set with {@link #setStreamHandler(Consumer)} or, when
 * none is set, queued (at most {@link TransportOptions#maxPendingInboundStreams()}; more are refused)
 * for {@link #acceptStream()}.
 */
public interface Connection extends AutoCloseable {

  /** The id of the transport that made this connection, e.g. {@code "tcp"}. */
  String transportId();

  /** Whether we dialed this connection ({@code false}: we accepted it on a {@link Listener}). */
  boolean isDialer();

  /** Our address. */
  URI localAddress();

  /** The peer's address. */
  URI remoteAddress();

  /** What this connection's transport can and cannot do. */
  Set<Capability> capabilities();

  /** The options this connection runs with (limits, windows, timeouts). */
  TransportOptions options();

  /** Opens a stream; see {@link #openStream(StreamStateListener)}. */
  default CompletableFuture<MuxedStream> openStream() {
    return openStream(null);
  }

  /**
   * Opens a stream. The future completes with the stream once it is {@link StreamState#OPEN} (usable),
   * or exceptionally with {@link StreamRefusedException} (a stream limit, or the peer refused it) or
   * {@link ConnectionFailedException}.
   *
   * @param listener added before the stream's first transition, so that it sees every one; may be null
   */
  CompletableFuture<MuxedStream> openStream(StreamStateListener listener);

  /**
   * The next inbound stream not yet taken. Completes exceptionally with {@link ConnectionFailedException}
   * when the connection ends first. Cannot be mixed with a stream handler.
   *
   * @throws IllegalStateException if a stream handler is set
   */
  CompletableFuture<MuxedStream> acceptStream();

  /**
   * Delivers every inbound stream, including those already queued, to {@code handler}, serially on a
   * Braid event thread (never a transport I/O thread). An exception from the handler resets that stream.
   *
   * @throws IllegalStateException if a handler is already set or an {@link #acceptStream()} is pending
   */
  void setStreamHandler(Consumer<MuxedStream> handler);

  /** A snapshot of the streams on this connection that have not reached a terminal state. */
  List<MuxedStream> streams();

  /** Whether the connection is still usable for new streams. */
  boolean isOpen();

  /**
   * Completes when the connection has ended and every stream on it has reached a terminal state:
   * normally after a graceful close (either side), exceptionally with the cause otherwise.
   */
  CompletableFuture<Void> closeFuture();

  /**
   * Closes gracefully: no new streams are accepted, the peer is told (e.g. yamux go-away), bytes already
   * accepted by the transport are flushed, and streams that have not ended fail with a
   * {@link ConnectionClosedException}. Idempotent; does not block. Wait on {@link #closeFuture()}.
   */
  @Override
  void close();

  /** Aborts at once with {@code cause}: nothing is flushed; every live stream fails with it. Idempotent. */
  void abort(Throwable cause);
}
