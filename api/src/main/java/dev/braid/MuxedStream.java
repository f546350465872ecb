package dev.braid;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One bidirectional, half-closable byte stream multiplexed over a {@link Connection}.
 *
 * <p><b>Thread safety.</b> This interface is thread-safe: every method may be called from any thread at
 * any time, including from a {@link StreamStateListener} and from continuations of the futures it
 * returns. Checking the state and acting on it is atomic: an operation never acts on a state that
 * another thread changed between the check and the I/O. No method blocks, except the blocking views.
 *
 * <p><b>Threads.</b> A returned future may complete on a transport's I/O thread (a read when bytes arrive, a
 * write when the peer grants window) or on the calling thread. A thread blocked in its {@code get()} or
 * {@code join()} is woken directly. A dependent action attached before completion ({@code thenApply},
 * {@code whenComplete}, {@code thenCompose}, ...) never runs on the completing thread: it runs on a Braid
 * event thread ({@code braid-events-N}, an unbounded pool), so it may block, even on another stream of the same
 * connection; attached after completion, it runs at once on the attaching thread. Continuations of different
 * futures may run concurrently and in any order. Listeners run on Braid event threads, serially per stream
 * ({@link StreamStateListener}). The whole table: {@code docs/threads.md}; the rules: SPEC.md §7, kit rules T1
 * and T2.
 *
 * <p><b>Lifecycle.</b> The stream follows {@link StreamState}. What each operation does in each state:
 *
 * <table class="striped">
 *   <caption>Operations by state</caption>
 *   <thead>
 *     <tr><th>state</th><th>{@link #read}</th><th>{@link #write}</th><th>{@link #closeWrite}</th>
 *         <th>{@link #closeRead}</th><th>{@link #close}</th><th>{@link #reset}</th></tr>
 *   </thead>
 *   <tbody>
 *     <tr><td>OPENING</td><td>waits</td><td>queued until OPEN</td><td>queued: FIN after queued bytes</td>
 *         <td>READ_CLOSED once open</td><td>both, once open</td><td>RESET</td></tr>
 *     <tr><td>OPEN</td><td>yes</td><td>yes</td><td>WRITE_CLOSED</td><td>READ_CLOSED</td><td>CLOSED</td><td>RESET</td></tr>
 *     <tr><td>READ_CLOSED</td><td>drains received bytes, then EOF (-1)</td><td>yes</td><td>CLOSED</td>
 *         <td>discards unread bytes</td><td>CLOSED</td><td>RESET</td></tr>
 *     <tr><td>WRITE_CLOSED</td><td>yes</td><td>fails: {@link WriteClosedException}</td><td>no-op</td>
 *         <td>CLOSED</td><td>CLOSED</td><td>RESET</td></tr>
 *     <tr><td>CLOSED</td><td>drains received bytes, then EOF (-1)</td><td>fails: {@link WriteClosedException}</td>
 *         <td>no-op</td><td>no-op</td><td>no-op</td><td>no-op</td></tr>
 *     <tr><td>RESET</td><td>fails: {@link StreamResetException}</td><td>fails: {@link StreamResetException}</td>
 *         <td>no-op</td><td>no-op</td><td>no-op</td><td>no-op</td></tr>
 *     <tr><td>FAILED</td><td>fails: {@link ConnectionFailedException}</td><td>fails: {@link ConnectionFailedException}</td>
 *         <td>no-op</td><td>no-op</td><td>no-op</td><td>no-op</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Half-close vocabulary, used everywhere in Braid: <em>closeWrite</em> ends our sending direction
 * gracefully (FIN after every queued byte); <em>closeRead</em> ends our receiving direction (further
 * inbound bytes are discarded and, where the transport can, the peer is told to stop sending);
 * <em>reset</em> aborts both directions with an error code that the peer observes.
 *
 * <p><b>Backpressure.</b> A write completes when the transport has accepted its bytes within the flow
 * control window granted by the peer, so a writer that waits for each write is held back by a slow
 * reader; no buffer grows without bound.
 *
 * <p>Streams are {@link AutoCloseable}: {@link #close()} is graceful and never blocks.
 */
public interface MuxedStream extends AutoCloseable {

  /** The transport's identifier of this stream within its connection. */
  long id();

  /** The connection that carries this stream. */
  Connection connection();

  /** Whether this side opened the stream ({@code false}: the peer did and we accepted it). */
  boolean isLocallyInitiated();

  /** The current state. A snapshot: it may change right after it is returned. */
  StreamState state();

  /**
   * Reads bytes into {@code dst}. The future completes with the number of bytes read (at least one),
   * or -1 at end-of-stream (after every byte the peer sent before its FIN, or after {@link #closeRead()}),
   * or exceptionally with {@link StreamResetException} or {@link ConnectionFailedException}.
   *
   * <p>At most one read may be outstanding; {@code dst} must not be touched until the future completes.
   *
   * @throws java.nio.channels.ReadPendingException if a read is already outstanding
   * @throws IllegalArgumentException if {@code dst} has no room left
   */
  CompletableFuture<Integer> read(ByteBuffer dst);

  /**
   * Writes every remaining byte of {@code src}, in order after earlier writes. The future completes when
   * the transport has accepted all of them within its flow-control window; until then {@code src} must
   * not be modified. It completes exceptionally with {@link WriteClosedException},
   * {@link StreamResetException} or {@link ConnectionFailedException}; it never throws for those.
   */
  CompletableFuture<Void> write(ByteBuffer src);

  /**
   * Ends the write direction gracefully: every byte written before is delivered, in order, before the
   * peer sees end-of-stream. Idempotent; later writes fail with {@link WriteClosedException}. The future
   * completes when the FIN has been handed to the transport after the last byte.
   */
  CompletableFuture<Void> closeWrite();

  /**
   * Ends the read direction: buffered and further inbound bytes are discarded, an outstanding read
   * returns -1 and, where the transport has {@link Capability#STOP_SENDING}, the peer is told to stop
   * sending. Idempotent.
   */
  void closeRead();

  /** Closes both directions gracefully ({@link #closeWrite()} and {@link #closeRead()}). Idempotent, never blocks. */
  @Override
  void close();

  /**
   * Aborts both directions with {@code code}: buffered data is discarded, outstanding reads and writes
   * fail with {@link StreamResetException}, and the peer observes a reset with the same code (where the
   * transport has {@link Capability#RESET_CODES}). Idempotent; a no-op in a terminal state.
   *
   * @param code an application error code, 0 to {@link StreamResetException#MAX_APPLICATION_CODE}
   *     (2<sup>32</sup>-257; the codes above are reserved for Braid's own use on the wire)
   * @throws IllegalArgumentException if {@code code} is out of range or reserved
   */
  void reset(long code);

  /**
   * Adds a listener that sees every transition from now on. To see a stream's first transition, pass the
   * listener to {@link Connection#openStream(StreamStateListener)} or add it in the stream handler.
   */
  void addListener(StreamStateListener listener);

  /** Removes a listener added before; transitions already queued for it may still be delivered. */
  void removeListener(StreamStateListener listener);

  /** Completes with the terminal state once the stream reaches one; never completes exceptionally. */
  CompletableFuture<StreamState> terminated();

  /** Bytes delivered to the application by reads so far. */
  long bytesRead();

  /** Bytes accepted by the transport from writes so far. */
  long bytesWritten();

  /**
   * A blocking view of the read direction. {@code read} blocks until bytes arrive and returns -1 at
   * end-of-stream; failures are the same exceptions as {@link #read}. Closing it calls {@link #closeRead()}.
   */
  InputStream inputStream();

  /**
   * A blocking view of the write direction. {@code write} blocks until the transport accepted the bytes
   * (flow control); closing it calls {@link #closeWrite()} and waits for it.
   */
  OutputStream outputStream();
}
