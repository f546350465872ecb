package ${package};

import dev.braid.MuxedStream;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractConnection;
import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * One end of a {@code ${scheme}} connection. The list of live streams, the stream limit, the accept queue and
 * stream handler, and the close protocol are {@link AbstractConnection}'s; this class moves the connection's frames.
 *
 * <p>What the connection's read loop calls (any thread, but never while holding a lock that the hooks below take):
 * <ul>
 *   <li>the peer opened a stream: create a {@link ${classPrefix}MuxedStream} ({@code locallyInitiated} false),
 *       register it with {@code addStream} (false: over {@code maxStreams} or ending; refuse it on the wire with the
 *       reserved code {@code StreamResetException.REFUSED}: N4, N8, F4), then {@code deliverInbound} (false: the
 *       accept backlog is full; the stream's {@code refuse}): O3;</li>
 *   <li>a frame of a stream: the stream's {@code receive}, {@code receiveFin}, {@code receiveReset},
 *       {@code receiveStopSending} (see {@link ${classPrefix}MuxedStream});</li>
 *   <li>the peer's goodbye (go-away): {@code markEnding}, then {@code terminated(null, true)} once the native
 *       connection is gone (N1, N6);</li>
 *   <li>the socket died, or nothing was heard for {@code options().idleTimeout()} (keep-alive pings every
 *       {@code options().keepAliveInterval()}): {@code terminated(cause, true)}, with a
 *       {@code ConnectionTimedOutException} for the idle timeout (N2, N5, F2).</li>
 * </ul>
 * The reference transport of the kit ({@code dev.braid.conformance.reference.MemConnection}) does each of these.
 */
final class ${classPrefix}Connection extends AbstractConnection {
  private final ${classPrefix}Transport transport;

  ${classPrefix}Connection(${classPrefix}Transport transport, boolean dialer, URI localAddress, URI remoteAddress) {
    super(transport.id(), dialer, localAddress, remoteAddress, transport.capabilities(), transport.options());
    this.transport = transport;
  }

  /**
   * TODO Opens a stream: allocate its id, create a {@link ${classPrefix}MuxedStream} ({@code locallyInitiated}
   * true, with {@code listener}), register it with {@code addStream} (false: fail the future with
   * {@code StreamRefusedException}, or {@code endCause()} once the connection is ending), announce it on the wire and
   * complete the future once the stream is usable. Rules O1, O2 (with OPENING_STATE: start in OPENING, then
   * {@code opened()}), O3, N4, N8 (a refusal from the peer: {@code StreamRefusedException}), D4, F4. Called on the
   * application's thread; must not block.
   */
  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    throw new UnsupportedOperationException("${classPrefix}Connection.doOpenStream is not implemented: create a "
        + "${classPrefix}MuxedStream, addStream() it, announce it to the peer and complete once usable "
        + "(SPEC.md O1, O3, N4, N8, D4)");
  }

  /**
   * TODO Closes gracefully: send the protocol's goodbye after every frame already queued (CLOSED streams still
   * flushing finish first), then close the native connection and call {@code terminated(null, false)}. The peer's
   * pending writes fail with {@code ConnectionFailedException} and its close completes normally: never a reset under
   * the peer's bytes. Rules N1, N6, F5. Called once, on the thread that called {@code close()}; must not block.
   */
  @Override
  protected void doClose() {
    throw new UnsupportedOperationException("${classPrefix}Connection.doClose is not implemented: send a goodbye "
        + "after the queued frames, close the native connection, then terminated(null, false) (SPEC.md N1, N6, F5)");
  }

  /**
   * TODO Tears the native connection down at once (nothing is flushed), then calls {@code terminated(cause, false)}.
   * Rules N2, N5, R3, F2. Called once, on the thread that called {@code abort}; must not block.
   */
  @Override
  protected void doAbort(Throwable cause) {
    throw new UnsupportedOperationException("${classPrefix}Connection.doAbort is not implemented: drop the native "
        + "connection at once, then terminated(cause, false) (SPEC.md N2, N5, R3, F2)");
  }

  ${classPrefix}Transport transport() {
    return transport;
  }
}
