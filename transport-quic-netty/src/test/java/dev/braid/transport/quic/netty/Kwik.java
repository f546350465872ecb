package dev.braid.transport.quic.netty;

import dev.braid.spi.TransportProvider;
import java.util.ServiceLoader;

/** The other implementation of {@code quic://} (kwik, provider id {@code quic}), found as any application finds it. */
final class Kwik {
  private Kwik() {}

  static TransportProvider provider() {
    return ServiceLoader.load(TransportProvider.class).stream().map(ServiceLoader.Provider::get)
        .filter(p -> p.id().equals("quic")).findFirst()
        .orElseThrow(() -> new AssertionError("the kwik transport (provider id quic) is not on the test class path"));
  }
}
