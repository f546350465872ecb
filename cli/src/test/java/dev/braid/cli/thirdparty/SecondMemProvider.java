package dev.braid.cli.thirdparty;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.reference.Breakage;
import dev.braid.conformance.reference.MemTransportProvider;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.Set;

/**
 * A second implementation of the {@code mem} scheme, shipped in a jar of its own as a second QUIC plugin would be:
 * with it on the class path, {@code braid conformance} adds the cross-implementation columns.
 */
public final class SecondMemProvider implements TransportProvider {
  private final MemTransportProvider inner = MemTransportProvider.secondImplementation(Breakage.NONE);

  @Override public String id() { return inner.id(); }
  @Override public Set<String> schemes() { return inner.schemes(); }
  @Override public int priority() { return inner.priority() - 1; }
  @Override public boolean isAvailable() { return true; }
  @Override public Throwable unavailabilityCause() { return null; }
  @Override public Set<Capability> capabilities() { return inner.capabilities(); }
  @Override public URI testListenAddress() { return inner.testListenAddress(); }
  @Override public Transport create(TransportOptions options) { return inner.create(options); }
}
