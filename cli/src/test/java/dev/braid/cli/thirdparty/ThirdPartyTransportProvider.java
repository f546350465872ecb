package dev.braid.cli.thirdparty;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.reference.MemTransportProvider;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.Set;

/**
 * Stands for a transport written outside this repository: the CLI test packs it into a jar of its own,
 * with its own service registration, and puts that jar on the class path.
 */
public final class ThirdPartyTransportProvider implements TransportProvider {
  private final MemTransportProvider inner = new MemTransportProvider();

  @Override public String id() { return "third-party"; }
  @Override public Set<String> schemes() { return Set.of("third-party"); }
  @Override public boolean isAvailable() { return true; }
  @Override public Throwable unavailabilityCause() { return null; }
  // Declares what its connections really do; declaring less would be caught by the kit (L1, O2, H6).
  @Override public Set<Capability> capabilities() { return inner.capabilities(); }
  @Override public URI testListenAddress() { return inner.testListenAddress(); }
  @Override public Transport create(TransportOptions options) { return inner.create(options); }
}
