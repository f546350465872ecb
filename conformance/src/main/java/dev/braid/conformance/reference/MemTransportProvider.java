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
  private final String id;
  private final String scheme;

  /** The correct reference transport (used by {@link java.util.ServiceLoader}). */
  public MemTransportProvider() {
    this(Breakage.NONE);
  }

  /** A reference transport with a deliberate defect (its own id and scheme, {@code mem-<breakage>}). */
  public MemTransportProvider(Breakage breakage) {
    this.breakage = Objects.requireNonNull(breakage, "breakage");
    this.id = breakage == Breakage.NONE ? "mem" : "mem-" + breakage.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    this.scheme = id;
  }

  private MemTransportProvider(String id, Breakage breakage) {
    this.breakage = Objects.requireNonNull(breakage, "breakage");
    this.id = Objects.requireNonNull(id, "id");
    this.scheme = "mem";
  }

  /**
   * A second implementation of the {@code mem} scheme, as a Netty-based and a kwik-based provider both serve
   * {@code quic}: its own id ({@code mem-second}, or {@code mem-second-<breakage>}), the same scheme and addresses, so
   * its transports dial and accept {@code mem} ones (the kit's cross-implementation fixture,
   * {@link dev.braid.conformance.TransportFixture#across}). Never found by {@link java.util.ServiceLoader}.
   */
  public static MemTransportProvider secondImplementation(Breakage breakage) {
    return new MemTransportProvider(breakage == Breakage.NONE ? "mem-second"
        : "mem-second-" + breakage.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), breakage);
  }

  /** The scheme of this provider's addresses. */
  String scheme() {
    return scheme;
  }

  /** The defect this provider's transports carry. */
  public Breakage breakage() {
    return breakage;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Set<String> schemes() {
    return Set.of(scheme);
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
    return URI.create(scheme + "://test:0");
  }

  @Override
  public Transport create(TransportOptions options) {
    return new MemTransport(this, options);
  }
}
