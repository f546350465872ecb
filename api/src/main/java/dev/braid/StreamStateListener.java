package dev.braid;

/**
 * Observes the state transitions of one {@link MuxedStream}.
 *
 * <p><b>Thread safety.</b> Callbacks for one stream are invoked serially, in transition order, each
 * transition exactly once (from the moment the listener was added), on a Braid event thread, never on a
 * transport I/O thread and never while Braid or the transport holds a lock. A listener may therefore
 * call any method of the stream, including blocking ones. An exception thrown by a listener is logged
 * and does not affect the stream or other listeners.
 */
@FunctionalInterface
public interface StreamStateListener {
  /**
   * Called once for each transition of {@code stream} from {@code from} to {@code to}.
   *
   * @param stream the stream that changed
   * @param from the state before the transition
   * @param to the state after it
   */
  void onStateChange(MuxedStream stream, StreamState from, StreamState to);
}
