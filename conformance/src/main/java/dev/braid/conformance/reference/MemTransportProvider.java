package dev.braid.conformance.reference;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The reference transport, id {@code mem}, scheme {@code mem}: both ends live in this JVM, frames travel
 * through per-connection ordered queues, and flow control is credit-based like yamux or QUIC. It declares
 * every {@link Capability} and passes every rule of the kit. Built with a {@link Breakage} other than
 * {@link Breakage#NONE} it is deliberately wrong, for the kit's self-tests.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class MemTransportProvider implements TransportProvider {
  private final Breakage breakage;

  /** The correct reference transport (used by {@link java.util.ServiceLoader}). */
  public MemTransportProvider() {
    this(Breakage.NONE);
  }

  /** A reference transport with a deliberate defect. */
  public MemTransportProvider(Breakage breakage) {
    this.breakage = Objects.requireNonNull(breakage, "breakage");
  }

  /** The defect this provider's transports carry. */
  public Breakage breakage() {
    return breakage;
  }

  @Override
  public String id() {
    return breakage == Breakage.NONE ? "mem" : "mem-" + breakage.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  @Override
  public Set<String> schemes() {
    return Set.of(id());
  }

  @Override
  public int priority() {
    return -100; // a reference, never preferred over a real transport
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.allOf(Capability.class);
  }

  @Override
  public URI testListenAddress() {
    return URI.create(id() + "://test:0");
  }

  @Override
  public Transport create(TransportOptions options) {
    return new MemTransport(this, options);
  }
}
