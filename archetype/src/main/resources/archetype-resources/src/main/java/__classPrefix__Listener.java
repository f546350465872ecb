package ${package};

import dev.braid.spi.AbstractListener;
import java.net.URI;

/**
 * A bound {@code ${scheme}://} address. {@code accept()}, the queue of connections not yet accepted and an idempotent
 * {@code close()} come from {@link AbstractListener}; the transport calls {@code bound(actual)} once the port is known
 * and {@code offer(connection)} for each inbound connection that finished its setup.
 */
final class ${classPrefix}Listener extends AbstractListener {
  /** How many inbound connections may wait for {@code accept()}; more are closed (and logged). */
  static final int MAX_UNACCEPTED = 128;

  /** @param requested the address asked for; {@link #boundTo} replaces it with the real one (its port, say) */
  ${classPrefix}Listener(URI requested) {
    super(${classPrefix}TransportProvider.ID, requested, MAX_UNACCEPTED);
  }

  /**
   * Called from the transport's accept loop: a new inbound connection that finished its setup, handed to a waiting
   * {@code accept()} or queued; false when it was closed instead (the listener is closed, or too many wait).
   */
  boolean inbound(${classPrefix}Connection c) {
    return offer(c);
  }

  /** Called by the transport once bound: {@code actual} is what dialers use ({@code address()}). */
  void boundTo(URI actual) {
    bound(actual);
  }

  /**
   * TODO Frees the listening resource (the port): called once, from {@code close()}; connections already
   * accepted live on. Must not wait for a thread that may be calling {@code offer}. The kit closes its listener after
   * every rule and then checks that the transport's threads stopped (W2).
   */
  @Override
  protected void closeNative() {
    throw new UnsupportedOperationException("${classPrefix}Listener.closeNative() is not implemented: free the "
        + "listening port (W2: nothing the transport started may outlive the kit's fixture)");
  }
}
