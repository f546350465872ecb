package dev.braid.cli.thirdparty;

import dev.braid.Capability;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.reference.Breakage;
import dev.braid.conformance.reference.MemTransportProvider;
import dev.braid.spi.TransportProvider;
import java.net.URI;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * A transport that is wrong on purpose, for the report's tests, shipped in a jar of its own as an outside author would:
 * the reference transport with a peer's reset arriving as a graceful FIN ({@link Breakage#RESET_AS_FIN}, which the
 * seeded model rule M1 catches), declaring no {@link Capability#STOP_SENDING} (so H6 is skipped, with the reason), and
 * naming a library it "runs on" with the version read from that library's jar.
 */
public final class BrokenMemProvider implements TransportProvider {
  private final MemTransportProvider inner = new MemTransportProvider(Breakage.RESET_AS_FIN);

  @Override public String id() { return "broken-mem"; }
  @Override public Set<String> schemes() { return Set.of("broken-mem"); }
  @Override public boolean isAvailable() { return true; }
  @Override public Throwable unavailabilityCause() { return null; }
  @Override public URI testListenAddress() { return inner.testListenAddress(); }
  @Override public Transport create(TransportOptions options) { return inner.create(options); }

  @Override
  public Set<Capability> capabilities() {
    Set<Capability> c = EnumSet.copyOf(inner.capabilities());
    c.remove(Capability.STOP_SENDING);
    return c;
  }

  @Override
  public Map<String, String> libraryVersions() {
    return Map.of("junit-jupiter-api", TransportProvider.mavenVersion(org.junit.jupiter.api.Test.class,
        "org.junit.jupiter", "junit-jupiter-api"));
  }
}
